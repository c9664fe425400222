"""`ygan serve BUNDLE` (`python -m reference_runtime serve`): the web page and a bundle on one origin.

Why a server of our own and not any static one: onnxruntime-web runs WebAssembly on several threads
only with SharedArrayBuffer, which browsers give to cross-origin isolated pages alone — every
response needs `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy:
require-corp`. The page is served from `/`, the bundle from `/bundle/` (where the page looks by
default). Bound to 127.0.0.1 unless asked; a phone needs `--host 0.0.0.0` and, for the camera and
WebCrypto, https (`--cert/--key`, docs/web.md). Standard library only: this runs where the phone's
side runs, without torch.
"""

from __future__ import annotations

import ssl
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

WEB_DIR = Path(__file__).resolve().parents[1] / "web_demo"
ORT = Path("node_modules/onnxruntime-web/dist")
HEADERS = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp",
           "Cross-Origin-Resource-Policy": "same-origin", "Cache-Control": "no-store"}


class ServeError(Exception):
    """A page or bundle that cannot be served; the message says what to do."""


class Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript", ".mjs": "text/javascript",
                      ".wasm": "application/wasm", ".onnx": "application/octet-stream"}

    def __init__(self, *args, web: Path, bundle: Path, **kwargs):
        self.web, self.bundle = web, bundle
        super().__init__(*args, directory=str(web), **kwargs)

    def translate_path(self, path: str) -> str:
        """`/bundle/...` from the bundle folder, everything else from the page's folder."""
        route = urlsplit(path).path
        if route == "/bundle" or route.startswith("/bundle/"):
            self.directory = str(self.bundle)
            return super().translate_path(path[len("/bundle"):] or "/")
        self.directory = str(self.web)
        return super().translate_path(path)

    def end_headers(self) -> None:
        for name, value in HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        pass


def check_web_dir(web: Path) -> None:
    if not (web / "index.html").is_file():
        raise ServeError(f"{web}: no index.html: pass the web_demo folder of a ygan-mobile checkout with --web-dir")
    if not (web / ORT / "ort.wasm.min.mjs").is_file():
        raise ServeError(f"{web / ORT}: onnxruntime-web is not installed: run scripts/install.sh (make install), "
                         f"or 'npm ci --omit=dev' in {web}")


def start(bundle: Path, web: Path = WEB_DIR, host: str = "127.0.0.1", port: int = 8000,
          cert: Path | None = None, key: Path | None = None) -> tuple[ThreadingHTTPServer, str]:
    """Serve in a background thread; return the server (call shutdown() to stop) and its URL."""
    server = ThreadingHTTPServer((host, port), partial(Handler, web=Path(web).resolve(), bundle=Path(bundle).resolve()))
    scheme = "http"
    if cert is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return server, f"{scheme}://{shown}:{server.server_address[1]}/"

"""The phone's side of the toolchain: runs a bundle with numpy and mobile runtimes only.

Never imports torch, tensorflow, ygan_mobile, distill or convert.

The Python API (docs/runtime.md, "Python API")::

    from reference_runtime import open_bundle, open_model, render_frame, verify_bundle

    bundle = open_bundle("bundle")                      # manifest validated, every sha256 checked
    model = open_model(bundle, "tflite/patch_model.flowers.int8-full")
    out = render_frame(frame_u8, model)                 # uint8 H×W×3 in, uint8 H×W×3 out
    y = render_float(frame_u8, model)                   # the same before rounding: float32 in [-1, 1]
    doc = verify_bundle("bundle", write=False)          # parity.json's content; doc["ok"] is the verdict

Errors: `ManifestError` (a bundle that must not run), `BackendError` (an artifact this machine
cannot run; `BackendUnavailable` when its runtime is missing), `OptionError` (an option verify
cannot honour).
"""

from reference_runtime.api import open_bundle, open_model, render_float, render_frame
from reference_runtime.backends import BackendError, BackendUnavailable
from reference_runtime.manifest import Bundle, ManifestError
from reference_runtime.pipeline import Workspace
from reference_runtime.verify import OptionError, verify_bundle
from reference_runtime.version import __version__

__all__ = ["open_bundle", "open_model", "render_frame", "render_float", "verify_bundle", "Bundle", "Workspace", "ManifestError",
           "BackendError", "BackendUnavailable", "OptionError", "__version__"]

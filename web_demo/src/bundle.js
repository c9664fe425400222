/**
 * A bundle read the way every other reader reads it (docs/bundle.md): manifest.json first, then each
 * file only after its sha256 matches the manifest's, so the page never runs a changed, truncated or
 * swapped model. DOM-free: fetch and WebCrypto exist in browsers (secure contexts) and in node.
 */
export class BundleError extends Error {}

const SCHEMA = "ygan-mobile/manifest";
const VERSIONS = [1];

export async function loadManifest(base) {
  const url = new URL("manifest.json", base);
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new BundleError(`${url}: could not be fetched (${err.message}): is 'ygan serve BUNDLE' running?`);
  }
  if (!response.ok) {
    throw new BundleError(`${url}: not found (HTTP ${response.status}): serve a bundle with 'ygan serve BUNDLE' ` +
                          "or copy one here with 'ygan build --web-dir web_demo'");
  }
  let manifest;
  try {
    manifest = JSON.parse(await response.text());
  } catch (err) {
    throw new BundleError(`${url}: not valid JSON (${err.message})`);
  }
  if (manifest?.schema !== SCHEMA) throw new BundleError(`${url}: schema '${manifest?.schema}' is not '${SCHEMA}'`);
  if (!VERSIONS.includes(manifest.version)) {
    throw new BundleError(`${url}: version ${manifest.version} is not one this page knows (${VERSIONS}): update the page or rebuild the bundle`);
  }
  return manifest;
}

/** The bytes of one manifest entry ({path, sha256}), refused unless their sha256 matches. */
export async function fetchVerified(base, entry) {
  const rel = entry.path;
  if (rel.startsWith("/") || rel.includes("\\") || rel.split("/").includes("..")) {
    throw new BundleError(`manifest.json: path '${rel}' leaves the bundle: paths must be relative and stay inside it`);
  }
  const url = new URL(rel, base);
  const response = await fetch(url);
  if (!response.ok) throw new BundleError(`${rel}: listed in manifest.json but missing from the bundle (HTTP ${response.status})`);
  const bytes = await response.arrayBuffer();
  const actual = await sha256(bytes);
  if (actual !== entry.sha256) {
    throw new BundleError(`${rel}: sha256 ${actual.slice(0, 12)}… does not match the manifest's ${entry.sha256.slice(0, 12)}…: ` +
                          "the file changed after conversion; rebuild or re-download the bundle");
  }
  return bytes;
}

export async function sha256(bytes) {
  if (!globalThis.crypto?.subtle) {
    throw new BundleError("WebCrypto is unavailable: open the page over https or on localhost (docs/web.md, 'On a phone')");
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The ONNX patch models the page can run: {theme: {precision: artifact}}. */
export function patchModels(manifest) {
  const out = {};
  for (const a of manifest.artifacts) {
    if (a.format === "onnx" && a.role === "patch_model") (out[a.theme] ??= {})[a.precision] = a;
  }
  if (!Object.keys(out).length) throw new BundleError("manifest.json lists no ONNX patch model: convert with the onnx target");
  return out;
}

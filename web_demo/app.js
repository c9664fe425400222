/**
 * The page: a bundle's ONNX patch model, run by onnxruntime-web, through src/pipeline.js on the
 * camera, an image or a video, with the frame rate shown. Query parameters (also what the tests
 * use): bundle=URL of the bundle folder (default bundle/), ep=wasm|webgpu, threads=N, theme=NAME,
 * precision=fp32|int8-qdq, size=PX (0: original), stride=PX, sampling=grid|multiscale.
 */
import { fetchVerified, loadManifest, patchModels } from "./src/bundle.js";
import { openModel } from "./src/model.js";
import { multiscaleSettings, renderMultiscale } from "./src/multiscale.js";
import { renderFrame } from "./src/pipeline.js";
import { fitSize, rgbaToRgb, rgbToRgba } from "./src/pixels.js";

const ORT = "./node_modules/onnxruntime-web/dist/";
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const base = new URL(params.get("bundle") ?? "bundle/", location.href);
// `stream` is spec v2's layout carried from frame to frame of one camera or video stream (hysteresis).
const state = { manifest: null, models: null, model: null, ep: "wasm", source: null, live: 0, last: null, stream: {} };
let queue = Promise.resolve();

/** One thing at a time (model loads and renders share onnxruntime), errors shown, never thrown away. */
function enqueue(job) {
  queue = queue.then(job).catch(showError);
  return queue;
}

function showError(err) {
  $("error").textContent = err?.message ?? String(err);
  $("error").hidden = false;
  $("status").textContent = "stopped";
  document.body.dataset.status = "error";
}

function setStatus(text, status) {
  $("status").textContent = text;
  document.body.dataset.status = status;
}

function fill(select, values, chosen) {
  select.replaceChildren(...values.map(([value, label]) => new Option(label, value)));
  if (values.some(([value]) => String(value) === String(chosen))) select.value = chosen;
}

async function start() {
  if (!isSecureContext) throw new Error("this page needs a secure context (https, or http on localhost) for WebCrypto and the camera: see docs/web.md, 'On a phone'");
  state.manifest = await loadManifest(base);
  state.models = patchModels(state.manifest);
  const { patch, stride } = state.manifest.pipeline;
  fill($("theme"), Object.keys(state.models).map((t) => [t, t]), params.get("theme"));
  fill($("stride"), [...new Set([stride, patch])].map((s) => [s, s === patch ? `${s} (= P, fastest)` : `${s} (bundle)`]), params.get("stride") ?? stride);
  if (params.has("size")) $("size").value = params.get("size");
  if (params.has("sampling")) $("sampling").value = params.get("sampling");
  // spec v2 at the settings the bundle's goldens record (the spec's defaults if it has none)
  state.multiscale = multiscaleSettings(patch, state.manifest.golden?.find((g) => g.kind === "multiscale") ?? {});
  showSampling();
  state.ep = await executionProvider(params.get("ep"));
  const ort = await import(`${ORT}${state.ep === "webgpu" ? "ort.webgpu.min.mjs" : "ort.wasm.min.mjs"}`);
  ort.env.wasm.numThreads = Number(params.get("threads") ?? Math.min(4, navigator.hardwareConcurrency || 1));
  state.ort = ort;
  fillPrecisions(params.get("precision"));
  await loadModel();
}

/** WebGPU where the browser has an adapter for it, WebAssembly otherwise (or when asked). */
async function executionProvider(asked) {
  if (asked === "wasm") return "wasm";
  const adapter = await navigator.gpu?.requestAdapter().catch(() => null);
  if (adapter) return "webgpu";
  if (asked === "webgpu") throw new Error("ep=webgpu: this browser has no WebGPU adapter; drop ep= to use WebAssembly");
  return "wasm";
}

function fillPrecisions(chosen) {
  const mine = state.models[$("theme").value];
  fill($("precision"), Object.keys(mine).map((p) => [p, `${p} (${(mine[p].size / 1024).toFixed(0)} kB)`]), chosen ?? "fp32");
}

async function loadModel() {
  const artifact = state.models[$("theme").value][$("precision").value];
  setStatus(`loading ${artifact.path}…`, "loading");
  const bytes = await fetchVerified(base, artifact);
  state.model?.release();
  state.model = null;
  state.model = await openModel(state.ort, bytes, artifact, state.ep);
  state.artifact = artifact;
  const threads = state.ep === "wasm" ? `, ${crossOriginIsolated ? state.ort.env.wasm.numThreads : 1} thread(s)` : "";
  setStatus(`${artifact.id} · ${state.ep.toUpperCase()}${threads} · pick the camera, an image or a video`, "ready");
  if (state.source) await renderOnce();
}

/** The current source at the processing size, as an RGB frame (the browser resizes; step 1 of §4). */
function grab() {
  const src = state.source;
  const { width, height } = fitSize(src.width, src.height, Number($("size").value));
  const canvas = $("input");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(src.element, 0, 0, width, height);
  return { rgb: rgbaToRgb(ctx.getImageData(0, 0, width, height).data), width, height };
}

/** Grid (spec v1) draws every element at P; multiscale (spec v2) cells from the largest to the smallest size. */
function showSampling() {
  const v2 = $("sampling").value === "multiscale";
  $("stride").disabled = v2;
  state.stream = {};
}

async function renderOnce() {
  const { rgb, width, height } = grab();
  const { patch, blend } = state.manifest.pipeline;
  const began = performance.now();
  let out, cells = 0;
  if ($("sampling").value === "multiscale") {
    // a still image is one frame with no state; a stream carries its layout from frame to frame
    const rendered = await renderMultiscale(rgb, height, width, state.model.run, state.multiscale,
                                            { batch: state.artifact.batch, state: state.source.still ? {} : state.stream });
    out = rendered.frame;
    cells = rendered.cells.length / 4;
  } else {
    out = await renderFrame(rgb, height, width, state.model.run,
                            { patch, stride: Number($("stride").value), blend, batch: state.artifact.batch });
  }
  const ms = performance.now() - began;
  const canvas = $("output");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(width, height);
  rgbToRgba(out, image.data);
  ctx.putImageData(image, 0, 0);
  state.last = { width, height, ms, cells };
  document.body.dataset.status = "rendered";
  return ms;
}

/** Camera and video: render frame after frame while the source is current; fps over the last 10. */
async function loop(generation) {
  const times = [];
  while (state.live === generation) {
    await enqueue(async () => {
      if (state.live !== generation || !state.model) return;
      times.push(performance.now());
      if (times.length > 11) times.shift();
      await renderOnce();
      if (times.length > 1) showFps(1000 * (times.length - 1) / (times.at(-1) - times[0]));
    });
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
}

function showFps(fps) {
  const { width, height, ms, cells } = state.last;
  const sampling = $("sampling").value === "multiscale" ? `multiscale, ${cells} cells` : `stride ${$("stride").value}`;
  $("fps").textContent = `${fps.toFixed(1)} fps · ${ms.toFixed(1)} ms/frame at ${width}×${height}, ${sampling}`;
}

/** Render the current source `frames` times back to back: the median frame time and its fps. */
async function measure(frames = 20) {
  const times = [], model = [];
  await enqueue(async () => {
    for (let i = 0; i < frames; i++) {
      const before = state.model.stats.ms;
      times.push(await renderOnce());
      model.push(state.model.stats.ms - before);
    }
  });
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  showFps(1000 / median(times));
  return { median_ms: median(times), model_ms: median(model), fps: 1000 / median(times), frames, ep: state.ep,
           threads: crossOriginIsolated ? state.ort.env.wasm.numThreads : 1, ...state.last };
}

async function useImage(file) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  state.live++;
  state.source = { element: bitmap, width: bitmap.width, height: bitmap.height, still: true };
  await enqueue(async () => {
    const ms = await renderOnce();
    $("fps").textContent = `one frame in ${ms.toFixed(1)} ms (the first includes warm-up): 'measure fps' for a steady rate`;
  });
}

async function useVideo(stream, file) {
  const video = $("video");
  if (stream) video.srcObject = stream; else { video.srcObject = null; video.src = URL.createObjectURL(file); video.loop = true; }
  await video.play();
  state.source = { element: video, width: video.videoWidth, height: video.videoHeight };
  state.stream = {};
  loop(++state.live);
}

$("file").addEventListener("change", (event) => {
  const file = event.target.files[0];
  if (file) (file.type.startsWith("video/") ? useVideo(null, file) : useImage(file)).catch(showError);
});
$("camera").addEventListener("click", () => {
  navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
    .then((stream) => useVideo(stream, null)).catch((err) => showError(new Error(`camera: ${err.message}`)));
});
$("theme").addEventListener("change", () => { fillPrecisions($("precision").value); enqueue(loadModel); });
$("precision").addEventListener("change", () => enqueue(loadModel));
$("sampling").addEventListener("change", showSampling);
for (const id of ["size", "stride", "sampling"]) $(id).addEventListener("change", () => state.source?.still && enqueue(renderOnce));
$("measure").addEventListener("click", () => state.source ? measure() : showError(new Error("pick an image or the camera first")));

window.ygan = { ready: enqueue(start), measure };

// Opens the page in Debian's Chromium (headless, driven over the DevTools protocol by playwright-core;
// no browser is downloaded), optionally feeds it an image through its file input, and prints one
// JSON line: the page's status and error text, the output canvas as base64 RGB, and, with
// --measure N, the median frame time of N renders. tests/apps/test_web.py and the fps measurement use it.
//   node test/browser/page.mjs URL [--image PNG] [--screenshot PNG] [--measure N]
import { parseArgs } from "node:util";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { image: { type: "string" }, screenshot: { type: "string" }, measure: { type: "string" } },
});
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const profile = mkdtempSync(join(tmpdir(), "ygan-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true, args: FLAGS,
  viewport: { width: 900, height: 700 },
});
const out = {};
try {
  const page = context.pages()[0] ?? await context.newPage();
  const console = [];
  page.on("console", (m) => console.push(m.text()));
  page.on("pageerror", (e) => console.push(`pageerror: ${e.message}`));
  await page.goto(positionals[0]);
  const settled = (...states) => page.waitForFunction((s) => s.includes(document.body.dataset.status), states, { timeout: 120000 });
  await settled("ready", "error");
  if (values.image && await status(page) === "ready") {
    await page.setInputFiles("#file", values.image);
    await settled("rendered", "error");
  }
  if (values.measure && await status(page) === "rendered") {
    out.measure = await page.evaluate((n) => window.ygan.measure(n), Number(values.measure));
  }
  Object.assign(out, await page.evaluate(() => ({
    status: document.body.dataset.status,
    error: document.getElementById("error").hidden ? null : document.getElementById("error").textContent,
    line: document.getElementById("status").textContent,
    crossOriginIsolated,
  })));
  if (out.status === "rendered") out.output = await page.evaluate(readCanvas);
  if (values.screenshot) await page.screenshot({ path: values.screenshot, fullPage: true });
  out.console = console;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(out) + "\n");

function status(page) {
  return page.evaluate(() => document.body.dataset.status);
}

function readCanvas() {
  const canvas = document.getElementById("output");
  const rgba = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let text = "";
  for (let s = 0; s < rgba.length; s += 4) text += String.fromCharCode(rgba[s], rgba[s + 1], rgba[s + 2]);
  return { width: canvas.width, height: canvas.height, rgb: btoa(text) };
}

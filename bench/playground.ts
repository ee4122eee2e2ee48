// The playground's measurements: the static bundle's size, how long the page takes to be ready, the
// compiler's latency in the page per edit (every ladder spec, edited as a person would), and 20 training
// steps of the multi-head spec on each backend the browser offers. Writes
// bench/results/playground-<date>.json, which the README quotes.
//   node --import tsx bench/playground.ts [--edits N]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { useSharedData } from "../test/helpers/project.js";
import { PROJECT_ROOT } from "../runtime/paths.js";
import { buildPlayground, launchChromium, serveStatic } from "./browser.js";

// What the functions evaluated in the page touch (this file is type-checked without the DOM's types).
interface PageElement {
  textContent: string | null;
  readonly dataset: Record<string, string | undefined>;
}
declare const document: { readonly body: PageElement; getElementById(id: string): PageElement | null };

const edits = Number(process.argv[process.argv.indexOf("--edits") + 1] ?? 3) || 3;
const site = mkdtempSync(join(tmpdir(), "babygpt-playground-"));
const t0 = performance.now();
buildPlayground(site);
const buildSeconds = (performance.now() - t0) / 1000;
const assets = readdirSync(join(site, "assets")).map((f) => {
  const bytes = readFileSync(join(site, "assets", f));
  return { file: f.replace(/-[\w-]{8}(\.\w+)$/, "$1"), bytes: statSync(join(site, "assets", f)).size, gzip: gzipSync(bytes).length };
});

const { server, url } = await serveStatic(site);
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
const started = performance.now();
await page.goto(url);
await page.waitForSelector("body[data-spec=ok][data-backend]");
const readyMs = performance.now() - started;
const firstCompileMs = Number(await page.locator("#compile-time").getAttribute("data-ms"));

const specs = (await page.locator("#spec option").evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value))) as string[];
const perEdit: { spec: string; ms: number }[] = [];
for (const spec of specs) {
  await page.selectOption("#spec", spec);
  for (let i = 0; i < edits; i++) {
    const before = await page.locator("#compile-time").getAttribute("data-ms");
    await page.locator("#editor .cm-content").click();
    await page.keyboard.press("Control+End");
    await page.keyboard.insertText(`\n# edit ${i}`);
    // The lint source compiles after a 250 ms pause in typing; wait for its new figure.
    await page.waitForFunction((b) => document.getElementById("compile-time")!.dataset["ms"] !== b, before);
    perEdit.push({ spec, ms: Number(await page.locator("#compile-time").getAttribute("data-ms")) });
  }
}
const sorted = perEdit.map((e) => e.ms).sort((a, b) => a - b);

const training: Record<string, unknown>[] = [];
for (const backend of ["webgpu", "webgl", "wasm", "cpu"]) {
  // A fresh page per backend: the default spec (specs/05-multi-head.yaml), a new model.
  await page.goto(`${url}?backend=${backend}`);
  await page.waitForFunction(() => document.body.dataset["backend"] !== undefined || (document.getElementById("error")!.textContent ?? "") !== "");
  const refused = (await page.locator("#error").innerText()).trim();
  if (refused) {
    training.push({ backend, refused });
    continue;
  }
  await page.setInputFiles("#corpus", join(useSharedData(), "tinyshakespeare.txt"));
  await page.waitForSelector("body[data-corpus=loaded]");
  await page.fill("#steps", "20");
  await page.fill("#eval-every", "20");
  await page.fill("#eval-batches", "2");
  const t = performance.now();
  await page.click("#train");
  await page.waitForSelector("body[data-training=done]", { timeout: 600_000 });
  const seconds = (performance.now() - t) / 1000;
  const evals = JSON.parse((await page.locator("#train-status").getAttribute("data-evals")) ?? "[]") as { step: number; val: number }[];
  training.push({ backend, detail: await page.locator("#backend-name").innerText(), seconds, valAtStep20: evals.at(-1)?.val });
}
await browser.close();
server.close();

const result = {
  date: new Date().toISOString(),
  command: `node --import tsx bench/playground.ts --edits ${edits}`,
  browser: "Debian chromium, headless (playwright-core)",
  buildSeconds,
  assets,
  pageReadyMs: readyMs,
  firstCompileMs,
  compilePerEdit: { edits: perEdit.length, medianMs: sorted[Math.floor(sorted.length / 2)], minMs: sorted[0], maxMs: sorted.at(-1), all: perEdit },
  training,
};
mkdirSync(join(PROJECT_ROOT, "bench/results"), { recursive: true });
const file = join(PROJECT_ROOT, "bench/results", `playground-${result.date.slice(0, 10)}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify({ ...result, compilePerEdit: { ...result.compilePerEdit, all: undefined } }, null, 2));
console.log(`wrote ${file}`);

// The GPU kit's results (kit/results.ts) as a section of docs/bench.md and a summary in the README, both
// rendered from a committed results file so that no GPU figure is ever typed in. `babygpt bench
// --render-gpu FILE` writes both; `babygpt bench --render` keeps the section (bench/report.ts).
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import { writeFileAtomic } from "../util/write-atomic.js";
import { block, sectionOf, withSection } from "./sections.js";
import { UserError } from "../runtime/errors.js";
import { PROJECT_ROOT } from "../runtime/paths.js";
import { KIT_RESULTS_KIND, type KitResults, type ModelFigures, type PartOutcome } from "../kit/results.js";

const compile = (name: string): HandlebarsTemplateDelegate =>
  Handlebars.compile(readFileSync(fileURLToPath(new URL(`./templates/${name}`, import.meta.url)), "utf8"), { noEscape: true });
const sectionTemplate = compile("gpu-kit.md.hbs");
const readmeTemplate = compile("readme-gpu.md.hbs");

export const RESULTS_DIR = join(PROJECT_ROOT, "bench/results");
const SECTION_START = "<!-- gpu kit: ";
const SECTION_END = "<!-- end of gpu kit -->";
const README_START = "<!-- gpu kit summary: ";
const README_END = "<!-- end of gpu kit summary -->";

const num = (n: number, digits: number): string => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
/** Milliseconds with three significant figures where they are small. */
const ms = (x: number | undefined): string => (x === undefined ? "–" : num(x, x < 1 ? 3 : x < 10 ? 2 : 1));
const int = (x: number | undefined): string => (x === undefined ? "–" : num(x, 0));
const mib = (bytes: number): string => (bytes >= 2 ** 30 ? `${num(bytes / 2 ** 30, 1)} GiB` : `${num(bytes / 2 ** 20, 0)} MiB`);

/** A part without a figure, in the table's cell: its status and why. */
const missing = (p: PartOutcome): string => `– (${p.status}${p.note ? `: ${p.note}` : ""})`;

/** The GPUs in words: "NVIDIA H100 80GB HBM3 (driver 550.54.15, 81,559 MiB, compute 9.0)", or why none. */
function gpus(r: KitResults): string {
  if (r.gpu.gpus.length === 0) return `a machine without an NVIDIA GPU (${r.gpu.note ?? "nvidia-smi listed none"})`;
  return r.gpu.gpus.map((g) => `${g.name} (driver ${g.driver}, ${int(g.memoryMiB)} MiB${g.computeCapability ? `, compute ${g.computeCapability}` : ""})`).join(", ");
}

function adapterWords(r: KitResults): string {
  const a = r.adapter;
  if (a.status !== "ok") return `none (${a.status}${a.note ? `: ${a.note}` : ""})`;
  return `${a.description || a.device || "unnamed"} (vendor ${a.vendor || "?"}, architecture ${a.architecture || "?"})`;
}

/** The limits that decide what trains: buffer sizes, workgroup memory and size. */
const KEY_LIMITS = ["maxBufferSize", "maxStorageBufferBindingSize", "maxStorageBuffersPerShaderStage", "maxComputeWorkgroupStorageSize", "maxComputeInvocationsPerWorkgroup"] as const;

function limitWords(r: KitResults): string {
  const l = r.adapter.limits ?? {};
  return KEY_LIMITS.filter((k) => l[k] !== undefined)
    .map((k) => `${k} ${/Size$/.test(k) && l[k]! >= 2 ** 20 ? mib(l[k]!) : int(l[k])}`)
    .join(", ");
}

/** The ratio of tokens/s, bold as the bench report writes it. */
const ratio = (m: ModelFigures): string => (m.webgpuOverTorch === undefined ? "–" : `**${num(m.webgpuOverTorch, m.webgpuOverTorch < 0.1 ? 3 : 2)}×**`);

function modelRows(r: KitResults): Record<string, string>[] {
  return r.models.map((m) => ({
    name: m.name,
    shape: `${m.batch} × ${m.block}`,
    webgpuMs: m.webgpu.msPerStep !== undefined ? ms(m.webgpu.msPerStep) : missing(m.webgpu),
    webgpuTokens: int(m.webgpu.tokensPerSec),
    torchMs: m.torch.msPerStep !== undefined ? ms(m.torch.msPerStep) : missing(m.torch),
    torchTokens: int(m.torch.tokensPerSec),
    ratio: ratio(m),
  }));
}

/** How the torch engine ran: device, precision, attention, versions (from the first model it timed). */
function torchSetup(r: KitResults): string {
  const t = r.models.map((m) => m.torch).find((x) => x.status === "ok");
  if (!t) return "";
  return [t.device, t.precision, t.sdpa ? "attention through F.scaled_dot_product_attention" : "attention in plain matrix products", `torch ${t.torch}${t.cuda ? `, CUDA ${t.cuda}` : ""}`].filter(Boolean).join(", ");
}

/** The full run in a sentence: its exact validation loss and minutes, or how far it got, or why not. */
function fullWords(r: KitResults): string {
  const f = r.full;
  if (f.status === "ok" && f.exactValLoss !== undefined) {
    return `The torch engine trained the lecture GPT (\`${f.spec}\`) for all ${int(f.iterations)} iterations on ${f.device} (${f.precision}) in ${num(f.minutes!, 1)} minutes: exact validation loss **${num(f.exactValLoss, 4)}** over ${int(f.valTokens)} tokens (nanoGPT's run of this size reaches 1.4697 in about 3 minutes on one A100).`;
  }
  if (f.iterations !== undefined) return `The lecture GPT's training by the torch engine stopped at step ${int(f.iterations)} of ${int(f.of)} (${f.note ?? f.status}).`;
  return `The torch engine's whole lecture-GPT training did not run: ${f.note ?? f.status}.`;
}

/** Every part without its figure, with why, for the section's list. */
function unmeasured(r: KitResults): string[] {
  const parts: [string, PartOutcome][] = [
    ["GPUs (nvidia-smi)", r.gpu],
    ["WebGPU adapter", r.adapter],
    ["PyTorch on CUDA", r.torch],
    ...r.models.flatMap((m): [string, PartOutcome][] => [
      [`${m.name} on webgpu`, m.webgpu],
      [`${m.name} by the torch engine`, m.torch],
    ]),
    ["WGSL kernels", r.kernels],
    ["the lecture GPT's whole training", r.full],
  ];
  return parts.filter(([, p]) => p.status !== "ok" || p.note).map(([name, p]) => `${name}: ${p.status}${p.note ? ` — ${p.note}` : ""}`);
}

/** The section of docs/bench.md for the results file `file` (its name under bench/results). */
export function renderGpuSection(r: KitResults, file: string): string {
  const kernels = r.kernels.rows.map((k) => ({
    op: k.op,
    kernel: ms(k.kernelMs),
    composite: k.compositeAgrees ? ms(k.compositeMs) : `${ms(k.compositeMs)} (invalid: WebGPU refused its shader or its values differ)`,
    ratio: `${num(k.compositeMs / k.kernelMs, 2)}×`,
    dispatches: `${k.kernelDispatches} / ${k.compositeDispatches}`,
  }));
  return sectionTemplate({
    file,
    command: r.command,
    kit: r.kit,
    gpu: gpus(r),
    date: r.date.slice(0, 10),
    seconds: int(r.seconds),
    budget: int(r.budgetSeconds),
    host: `${r.host.cpu}, ${r.host.cores} cores, ${num(r.host.memoryGiB, 0)} GiB, ${r.host.os}, glibc ${r.host.glibc}`,
    adapter: adapterWords(r),
    software: typeof r.adapter.software === "string",
    limits: limitWords(r),
    features: (r.adapter.features ?? []).join(", "),
    torchSetup: torchSetup(r),
    models: modelRows(r),
    kernels,
    flags: r.kernels.flags.map((f) => ({ batchSize: f.batchSize, cpuForward: f.cpuForward, ms: ms(f.stepMs) })),
    full: fullWords(r),
    unmeasured: unmeasured(r),
  });
}

/** The README's block: the figures of `source` (a results file and its name), or that no GPU ran the kit yet. */
export function renderReadmeGpu(source?: { readonly results: KitResults; readonly file: string }): string {
  if (!source) return readmeTemplate({});
  const r = source.results;
  return readmeTemplate({
    file: source.file,
    command: r.command,
    gpu: gpus(r),
    date: r.date.slice(0, 10),
    software: typeof r.adapter.software === "string",
    adapter: adapterWords(r),
    models: modelRows(r),
    full: fullWords(r),
  });
}

/** The results file a document's GPU block names (bench/results/<file>), or undefined. */
export function gpuSource(text: string): string | undefined {
  return /<!-- gpu kit(?: summary)?: written by `babygpt bench --render-gpu` from bench\/results\/(\S+) /.exec(text)?.[1];
}

/** docs/bench.md with its GPU section replaced by `section`, or `section` appended where it has none. */
export function replaceGpuSection(md: string, section: string): string {
  return withSection(md, SECTION_START, SECTION_END, section);
}

/** docs/bench.md without its GPU section (what the main benchmark renders). */
export function withoutGpuSection(md: string): string {
  const b = block(md, SECTION_START, SECTION_END);
  return b ? `${md.slice(0, b.from).trimEnd()}\n${md.slice(b.to).replace(/^\n+/, "")}` : md;
}

/** The GPU section of an existing docs/bench.md, to keep when the main benchmark's part is rewritten. */
export function keepGpuSection(fresh: string, old: string): string {
  const section = sectionOf(old, SECTION_START, SECTION_END);
  return section ? replaceGpuSection(fresh, section) : fresh;
}

/** The README with its GPU block replaced; refuses a README without one. */
export function replaceReadmeGpu(readme: string, summary: string): string {
  const b = block(readme, README_START, README_END);
  if (!b) throw new UserError(`README.md has no GPU kit block (${README_START}… ${README_END}) to rewrite`);
  return readme.slice(0, b.from) + summary.trimEnd() + readme.slice(b.to);
}

/** Reads a results file the kit wrote, refusing anything else in one line. */
export function readKitResults(path: string): KitResults {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new UserError(`${path}: cannot read the GPU kit's results: ${(e as Error).message.split("\n")[0]}`);
  }
  const r = parsed as Partial<KitResults> | null;
  if (!r || typeof r !== "object" || r.kind !== KIT_RESULTS_KIND || !Array.isArray(r.models) || typeof r.date !== "string") {
    throw new UserError(`${path}: not a results file of the GPU kit (./run.sh writes gpu-kit-<date>-<time>.json, with "kind": "${KIT_RESULTS_KIND}")`);
  }
  if (r.version !== 1) throw new UserError(`${path}: GPU kit results of version ${String(r.version)}; this babygpt reads version 1`);
  return r as KitResults;
}

/**
 * `babygpt bench --render-gpu FILE`: the file into bench/results (where the docs name it from), the section
 * of docs/bench.md and the README's block from it. Returns what it wrote.
 */
export function writeGpuDocs(path: string): string[] {
  const results = readKitResults(path);
  const file = basename(path);
  const committed = join(RESULTS_DIR, file);
  const written: string[] = [];
  if (resolve(path) !== committed) {
    if (existsSync(committed) && readFileSync(committed, "utf8") !== readFileSync(path, "utf8")) {
      throw new UserError(`bench/results/${file} exists and differs from ${path}; rename one of them`);
    }
    mkdirSync(RESULTS_DIR, { recursive: true });
    copyFileSync(path, committed);
    written.push(committed);
  }
  const md = join(PROJECT_ROOT, "docs/bench.md");
  const current = existsSync(md) ? readFileSync(md, "utf8") : "";
  writeFileAtomic(md, replaceGpuSection(current, renderGpuSection(results, file)));
  const readmePath = join(PROJECT_ROOT, "README.md");
  writeFileAtomic(readmePath, replaceReadmeGpu(readFileSync(readmePath, "utf8"), renderReadmeGpu({ results, file })));
  return [...written, md, readmePath];
}

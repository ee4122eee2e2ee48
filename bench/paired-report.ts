// The paired rounds' section of docs/bench.md: our sampling against PyTorch's (bench/paired-sampling.ts)
// and our training step against PyTorch's (bench/paired-step.ts), each from the newest results file of its
// kind in bench/results/, between its own markers, so that the main benchmark's report keeps it.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../runtime/paths.js";
import { writeFileAtomic } from "../util/write-atomic.js";
import { median } from "./median.js";
import type { BatchCeilingFile, PairedSampling } from "./results.js";
import type { SamplingProtocol } from "./sampling.js";
import { sectionOf, withSection } from "./sections.js";

const START = "<!-- paired rounds:";
const END = "<!-- end of paired rounds -->";

export interface PairedSamplingFile {
  readonly command: string;
  readonly date: string;
  readonly machine: { readonly cpu: string; readonly cores: number };
  readonly backend: string;
  readonly protocol: SamplingProtocol;
  readonly configs: readonly PairedSampling[];
}

export interface PairedStepFile {
  readonly command: string;
  readonly date: string;
  readonly spec: string;
  readonly backend: string;
  readonly rounds: readonly { readonly ratio: number }[];
  readonly medianRatio: number;
  readonly oursMedianMs: number;
  readonly torchFastestMedianMs: number;
}

const fmt = (n: number | undefined, d: number): string => (n === undefined || !Number.isFinite(n) ? "–" : n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }));
const range = (xs: readonly number[]): string => `${fmt(Math.min(...xs), 2)}–${fmt(Math.max(...xs), 2)}`;

/** The newest results file named `<prefix>-<date>.json` in `dir`, by name. */
export function newestResults(dir: string, prefix: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const re = new RegExp(`^${prefix}-\\d{4}-\\d{2}-\\d{2}\\.json$`);
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .at(-1);
}

/** A batch ceiling file's figures, medians over its rounds: ratios to one sample, and GFLOP/s. */
export function batchCeilingFigures(r: BatchCeilingFile): {
  byProtocol: number;
  withinContext: number;
  torch: number;
  /** Ours over PyTorch's, both batched. */
  batchOverTorch: number;
  ceiling: number;
  ceilingWithin: number;
  oneGflops: number;
  batchGflops: number;
  productGflops: number;
} {
  const B = r.protocol.batch;
  const med = (f: (x: BatchCeilingFile["rounds"][number]) => number): number => median(r.rounds.map(f));
  // tokens/s → seconds of a generation → GFLOP/s of its products.
  const gflops = (flops: number, tokens: number, tokensPerSec: number): number => flops / (tokens / tokensPerSec) / 1e9;
  return {
    byProtocol: med((x) => x.batch / x.one),
    withinContext: med((x) => x.batchWithin / x.oneWithin),
    torch: med((x) => x.torchBatch / x.torchOne),
    batchOverTorch: med((x) => x.batch / x.torchBatch),
    // The batch's products at the product's speed, nothing else: its tokens/s over one sample's, measured.
    ceiling: med((x) => (B * r.protocol.newTokens * x.productGflops * 1e9) / r.flops.batch / x.one),
    ceilingWithin: med((x) => (B * r.withinContextTokens * x.productGflops * 1e9) / r.flops.batchWithin / x.oneWithin),
    oneGflops: med((x) => gflops(r.flops.one, r.protocol.newTokens, x.one)),
    batchGflops: med((x) => gflops(r.flops.batch, B * r.protocol.newTokens, x.batch)),
    productGflops: med((x) => x.productGflops),
  };
}

function renderCeiling(file: string, r: BatchCeilingFile): string[] {
  const f = batchCeilingFigures(r);
  const p = r.protocol;
  const mflop = (x: number): string => fmt(x / 1e6, 0);
  return [
    `### A batch of ${p.batch} samples, and what this machine allows`,
    "",
    `Measured ${r.date.slice(0, 10)} on ${r.machine.cpu} (${r.machine.cores} cores) by \`${r.command}\` (${r.rounds.length} paired rounds, ${file}): ${r.spec}, the protocol above, one sample and a batch of ${p.batch} on each side (ours: the decode plan with the KV cache on the ${r.backend} backend; PyTorch: the generated module's \`generate\` with ${p.batch} rows, its fastest setting). The ceiling is the batch's tokens/s over one sample's if every operation of the batch's products (${mflop(r.flops.batch)} MFLOP by the protocol, ${mflop(r.flops.batchWithin)} MFLOP within the context, counted by bench/plan-flops.ts) ran at the machine's product speed (${fmt(f.productGflops, 0)} GFLOP/s: ${r.machine.cores} cores × this build's best single-threaded sgemm, of 1024³ and 1536³) and nothing else took any time. Past the context every token is a whole window's forward for each sample (the window's positions move, so nothing cached stays valid), arithmetic a batch cannot share: one sample already does its generation's products at ${fmt(f.oneGflops, 0)} GFLOP/s on average, and a batch's can at best run at the product speed.`,
    "",
    `| new tokens | ours: a batch of ${p.batch} / one | PyTorch: a batch of ${p.batch} / one | ceiling on this machine | a batch of ${p.batch}: ours / PyTorch |`,
    "| --- | --: | --: | --: | --: |",
    `| ${p.newTokens} (the protocol) | **${fmt(f.byProtocol, 2)}×** (${fmt(f.batchGflops, 0)} GFLOP/s) | ${fmt(f.torch, 2)}× | ${fmt(f.ceiling, 2)}× | ${fmt(f.batchOverTorch, 2)}× |`,
    `| ${r.withinContextTokens} (within the context) | **${fmt(f.withinContext, 2)}×** | – | ${fmt(f.ceilingWithin, 2)}× | – |`,
    "",
  ];
}

export function renderPairedSection(
  sampling: { file: string; results: PairedSamplingFile } | undefined,
  step: { file: string; results: PairedStepFile } | undefined,
  ceiling?: { file: string; results: BatchCeilingFile },
): string {
  const files = [sampling?.file, step?.file, ceiling?.file].filter((f): f is string => f !== undefined);
  const from = files.length > 1 ? `${files.slice(0, -1).join(", ")} and ${files.at(-1)}` : files.join("");
  const lines = [`${START} written by bench/paired-report.ts from ${from}; do not edit by hand -->`, "## Paired with PyTorch, round by round", ""];
  lines.push(
    "On a shared machine the same product can take twice as long an hour later, so the figures of the main table, each measured at its own time, can be apart by that much. Here each round measures our side and PyTorch's one after the other, in processes of their own, the order flipped every round; a round's ratio is of two measurements under the same conditions, and the figure is the median over the rounds (with their range).",
    "",
  );
  if (sampling) {
    const r = sampling.results;
    const p = r.protocol;
    lines.push(
      `### Sampling`,
      "",
      `Measured ${r.date.slice(0, 10)} on ${r.machine.cpu} (${r.machine.cores} cores) by \`${r.command}\`: the protocol of \`bench/sampling.json\` (a prompt of ${p.promptTokens} token, ${p.newTokens} new, temperature ${p.temperature}, the median of at least ${p.repeats} timed generations each side). Ours: the decode plan on the ${r.backend} backend with the KV cache, one sample; PyTorch: the generated module's \`generate\` (no KV cache, as nanoGPT's), its fastest thread setting in the round. From our side of each round as well: the cache against none, and a batch of ${p.batch} samples against one (tokens/s of all samples over one's), by the protocol and within the context (block_size − 1 new tokens, every step one position per sample; past the context every token is a whole window's forward per sample, arithmetic a batch cannot share).`,
      "",
      `| config | rounds | ours (tokens/s) | PyTorch (tokens/s) | ours / PyTorch | range | cache / no cache | a batch of ${p.batch} / one, by the protocol | within the context |`,
      "| --- | --: | --: | --: | --: | --- | --: | --: | --: |",
      ...r.configs.map(
        (c) =>
          `| ${c.config} | ${c.rounds.length} | ${fmt(c.oursMedian, 0)} | ${fmt(c.torchFastestMedian, 0)} | **${fmt(c.medianRatio, 2)}×** | ${range(c.rounds.map((x) => x.ratio))} | ${fmt(c.cacheOverNoCache, 2)}× | ${c.batchByProtocol !== undefined ? `${fmt(c.batchByProtocol, 2)}×` : "–"} | ${c.batchWithinContext !== undefined ? `${fmt(c.batchWithinContext, 2)}× (${c.withinContextTokens} tokens)` : "–"} |`,
      ),
      "",
    );
  }
  if (step) {
    const s = step.results;
    lines.push(
      "### A training step",
      "",
      `Measured ${s.date.slice(0, 10)} by \`${s.command}\`: ${s.spec}, our step on the ${s.backend} backend (forward, backward, clipping, AdamW) against PyTorch's fastest style and setting of the round, each the median step of its process after its warm-up. Above 1: ours is faster.`,
      "",
      "| spec | rounds | ours (ms) | PyTorch (ms) | PyTorch / ours | range |",
      "| --- | --: | --: | --: | --: | --- |",
      `| ${s.spec} | ${s.rounds.length} | ${fmt(s.oursMedianMs, 3)} | ${fmt(s.torchFastestMedianMs, 3)} | **${fmt(s.medianRatio, 2)}×** | ${range(s.rounds.map((x) => x.ratio))} |`,
      "",
    );
  }
  if (ceiling) lines.push(...renderCeiling(ceiling.file, ceiling.results));
  lines.push(END);
  return lines.join("\n");
}

/** docs/bench.md with its paired section replaced (appended where it has none). */
export function withPairedSection(markdown: string, section: string): string {
  return withSection(markdown, START, END, section);
}

export function pairedSectionOf(markdown: string): string | undefined {
  return sectionOf(markdown, START, END);
}

/** The section as rendered from the newest paired results files in `dir` (bench/results/), if there are any. */
export function pairedSectionFrom(dir: string): string | undefined {
  const read = <T>(file: string | undefined): { file: string; results: T } | undefined => (file ? { file: `bench/results/${file}`, results: JSON.parse(readFileSync(join(dir, file), "utf8")) as T } : undefined);
  const sampling = read<PairedSamplingFile>(newestResults(dir, "paired-sampling"));
  const step = read<PairedStepFile>(newestResults(dir, "paired-step"));
  const ceiling = read<BatchCeilingFile>(newestResults(dir, "batch-ceiling"));
  return sampling || step || ceiling ? renderPairedSection(sampling, step, ceiling) : undefined;
}

/** Renders the section from the newest paired results files in bench/results/ into docs/bench.md. */
export function writePairedSection(): string {
  const md = join(PROJECT_ROOT, "docs/bench.md");
  const current = existsSync(md) ? readFileSync(md, "utf8") : "";
  const section = pairedSectionFrom(join(PROJECT_ROOT, "bench/results"));
  if (section) writeFileAtomic(md, withPairedSection(current, section));
  return md;
}

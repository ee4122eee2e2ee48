// Writes docs/zoo.md (handlebars) and docs/zoo.svg (every architecture's validation loss while training,
// in one chart) from the zoo's results file: a pure function of that file, so `babygpt zoo --render FILE`
// writes the same report from a committed file without training.
import { readFileSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import { writeFileAtomic } from "../../util/write-atomic.js";
import { formatFlops, formatInt } from "../../util/format.js";
import { PROJECT_ROOT } from "../paths.js";
import { lineChart } from "../plot.js";
import { checkOutputFile, writeOutputFile } from "../safe-output.js";
import type { ZooResults } from "./results.js";

const template = Handlebars.compile(readFileSync(fileURLToPath(new URL("./templates/zoo.md.hbs", import.meta.url)), "utf8"), { noEscape: true });

/** How zoo.md starts: how the zoo recognizes a report it may replace. */
const REPORT_MARKER = "<!-- Written by `npx babygpt zoo`";

/** Tinyshakespeare's training split, in characters (90% of 1,115,394). */
const TRAIN_CHARS = 1_003_854;

/** One color per architecture (matplotlib's tab10). */
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

const fixed = (n: number, d = 4): string => (Number.isFinite(n) ? n.toFixed(d) : "–");

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(0)} s of training`;
  return `${(seconds / 60).toFixed(1)} min of training`;
}

/** The commands that trained the entries: one, or each with the architectures it trained. */
function commandsOf(results: ZooResults): string {
  const by = new Map<string, string[]>();
  for (const e of results.entries) {
    const command = e.command ?? results.command;
    by.set(command, [...(by.get(command) ?? []), e.name]);
  }
  if (by.size <= 1) return `Command: \`${[...by.keys()][0] ?? results.command}\``;
  return `Commands: ${[...by].map(([c, names]) => `\`${c}\` (${names.join(", ")})`).join("; ")}`;
}

export interface ZooReportOptions {
  /** Where zoo.md and zoo.svg go. */
  readonly outDir: string;
  /** The results file the report is rendered from (the report names it and links to it). */
  readonly resultsFile: string;
  /** Replace a zoo.md that the zoo did not write. */
  readonly force?: boolean;
  /** Zoo specs without results at this budget, named in the report. */
  readonly missing?: readonly string[];
}

export function writeZooReport(results: ZooResults, options: ZooReportOptions): string {
  const file = join(options.outDir, "zoo.md");
  const guard = { label: file, command: "babygpt zoo", owns: (head: string) => head.startsWith(REPORT_MARKER), force: options.force ?? false };
  checkOutputFile(file, guard); // before the chart is written, not after
  const entries = [...results.entries].sort((a, b) => a.valLoss - b.valLoss);
  writeFileAtomic(
    join(options.outDir, "zoo.svg"),
    lineChart({
      title: `The zoo: val loss while training (${formatInt(results.budget.iters)} steps of ${results.budget.batchSize} × ${results.budget.blockSize} tokens)`,
      xLabel: "step (from the first estimate after step 0, where every model is near ln 65 ≈ 4.17)",
      yLabel: "val loss (estimate)",
      // Step 0 left out: every model starts near ln(vocab), which would squeeze where they differ.
      series: entries.map((e, i) => ({ name: e.name.replace(/^zoo-/, ""), points: e.curve.filter((c) => c.step > 0).map((c) => [c.step, c.val] as const), color: COLORS[i % COLORS.length]! })),
    }),
  );
  const b = results.budget;
  const tokens = b.iters * b.batchSize * b.blockSize;
  const markdown = template({
    resultsFile: relative(PROJECT_ROOT, resolve(options.resultsFile)).split(sep).join("/"),
    resultsLink: relative(resolve(options.outDir), resolve(options.resultsFile)).split(sep).join("/"),
    commands: commandsOf(results),
    date: results.date,
    machine: [...new Set(results.entries.map((e) => e.machine ?? results.machine))].join("; "),
    cores: results.cores,
    dates: [...new Set(results.entries.map((e) => e.date ?? results.date))].sort().join(", "),
    backend: results.backend,
    iters: formatInt(b.iters),
    batchSize: b.batchSize,
    blockSize: b.blockSize,
    tokens: formatInt(tokens),
    epochs: (tokens / TRAIN_CHARS).toFixed(1),
    optimizer: b.optimizer,
    schedule: b.schedule,
    missing: options.missing && options.missing.length > 0 ? options.missing.join(", ") : "",
    rows: entries.map((e) => ({
      name: e.name,
      anchor: e.name,
      spec: e.spec,
      params: formatInt(e.params),
      flops: formatFlops(e.flopsPerToken),
      tokensPerSec: formatInt(e.tokensPerSec),
      load: Number.isFinite(e.load.start) ? `${e.load.start.toFixed(1)} → ${e.load.end.toFixed(1)}` : "–",
      trainLoss: fixed(e.trainLoss),
      valLoss: fixed(e.valLoss),
      iters: formatInt(e.iters),
      wall: duration(e.wallSeconds),
      date: e.date ?? results.date,
      description: e.description,
      distinctive: e.distinctive.map((l) => `\`${l.replace(/`/g, "'")}\``).join(" · "),
      sample: e.sample.replace(/```/g, "` ` `"),
    })),
  });
  writeOutputFile(file, markdown, guard);
  return file;
}

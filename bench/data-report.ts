// The data benchmark's table (bench/data.ts) in docs/bench.md, between its own markers, so it can be
// rendered again from a results file without touching the rest of the report, and the rest of the report
// (bench/report.ts) without losing it.
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { writeFileAtomic } from "../util/write-atomic.js";
import { sectionOf, withSection } from "./sections.js";
import { PROJECT_ROOT } from "../runtime/paths.js";
import type { DataBenchResults, DataBenchRow } from "./data.js";

const START = "<!-- data bench:";
const END = "<!-- end of data bench -->";

const fmt = (n: number | undefined, d = 1): string => (n === undefined || !Number.isFinite(n) ? "–" : n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }));

function ok(row: DataBenchRow): string {
  const failed = [["prepare", row.prepare], ["train", row.train], ["hit", row.hit.train]].filter(([, m]) => (m as { code: number }).code !== 0).map(([w]) => w);
  return failed.length ? ` (failed: ${failed.join(", ")})` : "";
}

export function renderDataSection(results: DataBenchResults, file: string): string {
  const rows = results.rows.map(
    (r) =>
      `| ${r.size} | ${r.tokenizer}${ok(r)} | ${fmt(r.prepare.seconds, 1)} s | ${fmt(r.prepare.mbPerSec, 1)} | ${r.prepare.cpuSeconds ? fmt(r.bytes / 1e6 / r.prepare.cpuSeconds, 1) : "–"} | ${fmt(r.prepare.peakRssMiB, 0)} MiB | ${r.prepare.tokens ? (r.prepare.tokens.train + r.prepare.tokens.val).toLocaleString("en-US") : "–"} | ${fmt(r.train.peakRssMiB, 0)} MiB | ${fmt(r.hit.prepare.seconds, 2)} s | ${r.hit.inProcessMs !== undefined ? `${fmt(r.hit.inProcessMs, 0)} ms` : "–"} | ${fmt(r.hit.train.toFirstStep, 2)} s | ${fmt(r.prepare.load, 1)} |`,
  );
  const byTok = new Map<string, DataBenchRow[]>();
  for (const r of results.rows) byTok.set(r.tokenizer, [...(byTok.get(r.tokenizer) ?? []), r]);
  const growth = [...byTok].flatMap(([tok, rs]) => {
    const small = rs.find((r) => r.size === "10MB");
    const big = rs.filter((r) => r.bytes > (small?.bytes ?? Infinity)).at(-1);
    return small && big ? [`${tok} ${fmt(big.train.peakRssMiB / small.train.peakRssMiB, 2)}× (${big.size} against 10MB)`] : [];
  });
  return [
    `${START} written by \`babygpt bench --data\` from bench/results/${file} (bench/data-report.ts); do not edit by hand -->`,
    "## Data: preparing a corpus once, training from the token files",
    "",
    `Measured on ${results.machine.cpu} (${results.machine.cores} cores, ${results.machine.memoryGiB} GiB), ${results.date.slice(0, 10)}, by \`${results.command}\`. Corpora are tinyshakespeare's lines shuffled and repeated, generated in a temporary folder and removed afterwards. Each figure is a process of its own under \`/usr/bin/time\` with an empty token cache of its own; "prepare" is \`babygpt data prepare\` (hashing, every pass, writing and checking the entry), "train" is ${results.steps} steps of the baby GPT (\`specs/12-baby-gpt.yaml\` with the tokenizer set) on the prepared tokens, "hit" is the same corpus a second time: \`data prepare\` finding the entry, and a training's time from its start to the line that says it starts (its data and model ready). The machine is shared with other jobs: the load column is the 1-minute load average when the preparation started (2 cores: above 2, others were waiting for a core too); "MB per CPU-second" divides the corpus by the CPU time the preparation used on all its threads (user and system), a figure the other jobs change much less than the wall-clock MB/s: on 2 idle cores the wall-clock rate could reach up to about twice it. "hit: data prepare" includes starting Node and the CLI, as \`babygpt --version\` does; "the data step alone" is the same lookup timed inside one process (\`bench/data-hit.ts\`: the files' stats, the entry's manifest, the token files opened, and read whole where they hold under 64 MiB, a learned BPE's tokenizer built from its merges), what a training spends on its data before it builds its model. The generated corpora repeat tinyshakespeare's words, so the BPE workers' cache of encoded chunks almost always hits; on a text with a longer tail of rare chunks it gains little (\`bench/results/tokenizers-*.json\`).`,
    "",
    "| corpus | tokenizer | prepare | MB/s | MB per CPU-second | peak RSS preparing | tokens | peak RSS training | hit: data prepare | hit: the data step alone | hit: training starts after | load |",
    "| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |",
    ...rows,
    "",
    `Peak RSS of training on the largest corpus against the 10 MB one: ${growth.join("; ") || "–"}.`,
    END,
  ].join("\n");
}

/** `markdown` with its data section replaced by `section` (appended when it has none). */
export function withDataSection(markdown: string, section: string): string {
  return withSection(markdown, START, END, section);
}

/** The data section of `markdown`, if it has one. */
export function dataSectionOf(markdown: string): string | undefined {
  return sectionOf(markdown, START, END);
}

export function writeDataSection(results: DataBenchResults, path: string): string {
  const md = join(PROJECT_ROOT, "docs/bench.md");
  const current = existsSync(md) ? readFileSync(md, "utf8") : "";
  writeFileAtomic(md, withDataSection(current, renderDataSection(results, basename(path))));
  return md;
}

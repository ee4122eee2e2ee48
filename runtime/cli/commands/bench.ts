// `babygpt bench`: ours against PyTorch on this machine; writes bench/results/<date>.json and docs/bench.md.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../../../util/write-atomic.js";
import { UserError } from "../../errors.js";
import { PROJECT_ROOT } from "../../paths.js";
import type { Command } from "commander";
import { BACKENDS } from "../../../bench/backends.js";
import { checkOutputDir } from "../../safe-output.js";
import { parseIntOption } from "../parse.js";

/** Seconds one measurement may take in the default run. */
const DEFAULT_BUDGET = 600;

export function registerBench(program: Command): void {
  program
    .command("bench")
    .description("time training and sampling per backend against the PyTorch reference (the full default run also writes docs/bench.md and the README's summary)")
    .option("--quick", "a few iterations of the small configs; results JSON only (a CI smoke test)")
    .option("--only <configs...>", "configs to run: bigram, baby, lecture")
    .option("--backends <names...>", `backends to try (default: ${BACKENDS.join(", ")})`)
    .option("--no-torch", "skip the PyTorch reference")
    .option("--budget <seconds>", "time limit of one measurement", parseIntOption("--budget", 1), DEFAULT_BUDGET)
    .option("--results <dir>", "where the results JSON goes (default: bench/results)")
    .option("--render <json>", "measure nothing: rewrite docs/bench.md and the README's summary from a results file (after editing a template)")
    .option("--render-gpu <json>", "measure nothing: the GPU kit's results file (./run.sh on a GPU machine) into bench/results, a section of docs/bench.md and the README's GPU block")
    .option("--data", "instead: the data benchmark (bench/data.ts): prepare generated corpora of 10 MB to 4 GB with each tokenizer, train on them, start again on the cache hit")
    .option("--data-sizes <sizes...>", "--data: corpus sizes (10MB 100MB 1GB 4GB)")
    .option("--data-tokenizers <names...>", "--data: tokenizers (char gpt2 bpe-8192)")
    .option("--render-data <json>", "measure nothing: rewrite docs/bench.md's data section from a data results file")
    .action(async (opts: { quick?: boolean; only?: string[]; backends?: string[]; torch: boolean; budget: number; results?: string; render?: string; renderGpu?: string; data?: boolean; dataSizes?: string[]; dataTokenizers?: string[]; renderData?: string }) => {
      if (opts.renderGpu !== undefined) {
        const { writeGpuDocs } = await import("../../../bench/gpu-report.js");
        console.log(`wrote ${writeGpuDocs(resolve(opts.renderGpu)).join(", ")} from ${opts.renderGpu}`);
        return;
      }
      if (opts.data || opts.renderData !== undefined) {
        const { DATA_SIZES, DATA_TOKENIZERS, readDataBench, runDataBench } = await import("../../../bench/data.js");
        const { writeDataSection } = await import("../../../bench/data-report.js");
        if (opts.renderData !== undefined) {
          console.log(`wrote ${writeDataSection(readDataBench(resolve(opts.renderData)), resolve(opts.renderData))} from ${opts.renderData}`);
          return;
        }
        const sizes = opts.dataSizes ?? Object.keys(DATA_SIZES);
        const tokenizers = opts.dataTokenizers ?? Object.keys(DATA_TOKENIZERS);
        for (const s of sizes) if (!(s in DATA_SIZES)) throw new UserError(`--data-sizes: ${s} is not one of ${Object.keys(DATA_SIZES).join(", ")}`);
        for (const t of tokenizers) if (!(t in DATA_TOKENIZERS)) throw new UserError(`--data-tokenizers: ${t} is not one of ${Object.keys(DATA_TOKENIZERS).join(", ")}`);
        const dir = resolve(opts.results ?? join(PROJECT_ROOT, "bench/results"));
        checkOutputDir(dir, `--results ${dir}`);
        mkdirSync(dir, { recursive: true });
        const save = (results: Awaited<ReturnType<typeof runDataBench>>): string => {
          const file = join(dir, `data-${results.date.slice(0, 10)}.json`);
          writeFileAtomic(file, `${JSON.stringify(results, null, 2)}\n`);
          return file;
        };
        // the results file is rewritten after every row: a run stopped part way keeps what it measured
        const results = await runDataBench({ sizes, tokenizers, log: (line) => console.error(line), command: ["npx babygpt bench", ...process.argv.slice(3)].join(" "), onRow: save });
        const file = save(results);
        console.log(`wrote ${file} and ${writeDataSection(results, file)}`);
        return;
      }
      const { readBenchResults, tokensRatio, writeBenchDocs } = await import("../../../bench/report.js");
      if (opts.render !== undefined) {
        console.log(`wrote ${writeBenchDocs(readBenchResults(resolve(opts.render)), resolve(opts.render)).join(" and ")} from ${opts.render}`);
        return;
      }
      const { runBench, writeBenchReport } = await import("../../../bench/bench.js");
      // a bad --results folder is said now, not after half an hour of measuring
      if (opts.results !== undefined) checkOutputDir(opts.results, `--results ${opts.results}`);
      const quick = opts.quick ?? false;
      const report = await runBench({
        quick,
        ...(opts.only ? { configs: opts.only } : quick ? { configs: ["bigram", "baby"] } : {}),
        ...(opts.backends ? { backends: opts.backends } : {}),
        torch: opts.torch,
        budget: quick ? Math.min(opts.budget, 120) : opts.budget,
        log: (line) => console.error(line),
      });
      const command = ["npx babygpt bench", ...process.argv.slice(3)].join(" ");
      // The committed docs quote the full default run: a partial one (some configs or backends, no
      // PyTorch, another budget or results folder) writes its results file alone.
      const partial = [opts.only && "--only", opts.backends && "--backends", !opts.torch && "--no-torch", opts.budget !== DEFAULT_BUDGET && "--budget", opts.results !== undefined && "--results"].filter((f): f is string => typeof f === "string");
      const written = writeBenchReport(report, command, opts.results !== undefined ? resolve(opts.results) : undefined, partial.length === 0);
      for (const c of report.configs) {
        for (const o of c.ours) {
          const t = c.torch.best;
          const r = tokensRatio(o, c);
          const ratio = r !== undefined && t ? ` = ${r.toFixed(2)}× PyTorch (${t.tokens_per_sec.toFixed(0)} tokens/s, ${t.setting})` : "";
          console.log(`${c.name.padEnd(12)} ${o.backend.padEnd(15)} ${o.msPerIter !== undefined ? `${o.msPerIter.toFixed(1)} ms/iter, ${o.tokensPerSec!.toFixed(0)} tokens/s${ratio}` : `${o.status}${o.note ? `: ${o.note}` : ""}`}`);
        }
      }
      console.log(`wrote ${written.json}${written.markdown ? ` and ${written.markdown}` : ""}`);
      if (!quick && partial.length > 0) {
        console.log(`docs/bench.md and the README's summary are left as they are: this run is partial (${partial.join(", ")}); \`npx babygpt bench --render ${written.json}\` writes them from it`);
      }
    });
}

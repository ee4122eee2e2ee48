// `babygpt plot <run>`: loss.svg from the run's metrics.jsonl.
import { basename, join, resolve } from "node:path";
import type { Command } from "commander";
import { writeFileAtomic } from "../../../compiler/write-atomic.js";
import { UserError } from "../../errors.js";
import { lossChart } from "../../plot.js";
import { readMetrics } from "../../train/metrics.js";

export function registerPlot(program: Command): void {
  program
    .command("plot")
    .description("write loss.svg (train and val loss by step) for a run")
    .argument("<run>", "run directory")
    .option("--out <file>", "where to write the SVG (default: <run>/loss.svg)")
    .action((runDir: string, opts: { out?: string }) => {
      const dir = resolve(runDir);
      const records = readMetrics(dir);
      if (!records.some((r) => r.type === "eval")) throw new UserError(`${runDir} has no evaluations in metrics.jsonl yet`);
      const out = opts.out ?? join(dir, "loss.svg");
      writeFileAtomic(out, lossChart(basename(dir), records));
      console.log(`wrote ${out}`);
    });
}

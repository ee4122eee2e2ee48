// `babygpt plot <run>`: loss.svg from the run's metrics.jsonl.
import { basename, join, resolve } from "node:path";
import type { Command } from "commander";
import { UserError } from "../../errors.js";
import { commentText, writeOutputFile } from "../../safe-output.js";

/** The first line of every SVG plot writes: how it recognizes a file it may replace. */
const MARKER = "<!-- Written by babygpt plot";

export function registerPlot(program: Command): void {
  program
    .command("plot")
    .description("write loss.svg (train and val loss by step) for a run")
    .argument("<run>", "run directory")
    .option("--out <file>", "where to write the SVG (default: <run>/loss.svg); an existing file is replaced only if plot wrote it")
    .option("--force", "replace the --out file even if plot did not write it (never a run's checkpoint or metrics)")
    .action(async (runDir: string, opts: { out?: string; force?: boolean }) => {
      const { readMetrics } = await import("../../train/metrics.js");
      const { lossChart } = await import("../../plot.js");
      const dir = resolve(runDir);
      const records = readMetrics(dir);
      if (!records.some((r) => r.type === "eval")) throw new UserError(`${runDir} has no evaluations in metrics.jsonl yet`);
      const out = opts.out ?? join(dir, "loss.svg");
      const svg = `${MARKER} from ${commentText(basename(dir))}/metrics.jsonl -->\n${lossChart(basename(dir), records)}`;
      writeOutputFile(out, svg, {
        label: opts.out === undefined ? out : `--out ${opts.out}`,
        command: "babygpt plot",
        // <run>/loss.svg is plot's own file, also when an older babygpt wrote it without the marker
        owns: (head) => head.startsWith(MARKER) || (opts.out === undefined && head.trimStart().startsWith("<svg")),
        force: opts.force ?? false,
      });
      console.log(`wrote ${out}`);
    });
}

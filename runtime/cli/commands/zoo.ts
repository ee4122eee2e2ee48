// `babygpt zoo`: train every architecture of specs/zoo/ at one budget and write docs/zoo.md, its chart and
// the results file it is rendered from (docs/zoo.json); `--render FILE` writes the report again from a
// results file without training. A zoo with some architectures missing at this budget (--only, a stop)
// writes its report beside its runs instead, never over the project's.
import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Command } from "commander";
import { BACKENDS, type BackendChoice } from "../../backend/choices.js";
import { PROJECT_ROOT } from "../../paths.js";
import { keepGoingWithoutOutput } from "../broken-output.js";
import { parseIntOption } from "../parse.js";
import { onStopSignals } from "../stop-signals.js";
import { trainReporter } from "../train-reporter.js";

interface ZooFlags {
  only?: string[];
  iters?: number;
  backend: BackendChoice;
  data?: string;
  dir?: string;
  render?: string;
  report: boolean;
  reportDir?: string;
  force?: boolean;
}

export function registerZoo(program: Command): void {
  program
    .command("zoo")
    .description("train every architecture of specs/zoo/ at one budget (same steps, same batch) and write docs/zoo.md with docs/zoo.json, its results (resumes where it stopped)")
    .option("--only <names...>", "train only these architectures (spec names or file names); the report then goes beside the runs unless every architecture has results")
    .option("--iters <n>", "steps for every architecture (default: the recipe's, specs/zoo/recipe/training.yaml)", parseIntOption("--iters", 1, 1_000_000))
    .option("--backend <name>", `tensor backend: ${BACKENDS.join(", ")}`, "auto")
    .option("--data <path>", "corpus file or directory")
    .option("--dir <dir>", "where the runs go (default: runs/zoo)")
    .option("--render <results>", "write the report from a results file (docs/zoo.json) without training")
    .option("--no-report", "train only; write neither results nor report")
    .option("--report-dir <dir>", "write zoo.md, zoo.svg and zoo.json there instead of docs/")
    .option("--force", "replace a zoo.md that the zoo did not write")
    .action(async (opts: ZooFlags) => {
      const { writeZooReport } = await import("../../zoo/report.js");
      const { ZOO_FORMAT, readZooResults } = await import("../../zoo/results.js");
      const { writeOutputFile } = await import("../../safe-output.js");
      const { makeDirs } = await import("../../make-dirs.js");
      const docs = join(PROJECT_ROOT, "docs");
      const shown = (file: string): string => (relative(process.cwd(), file).startsWith("..") ? file : relative(process.cwd(), file));

      if (opts.render !== undefined) {
        const results = readZooResults(opts.render);
        const file = writeZooReport(results, { outDir: resolve(opts.reportDir ?? docs), resultsFile: opts.render, force: opts.force ?? false });
        console.log(`wrote ${shown(file)} and zoo.svg beside it from ${opts.render}`);
        return;
      }

      const { runZoo, zooDir } = await import("../../zoo/zoo.js");
      const command = ["npx babygpt zoo", ...process.argv.slice(3)].join(" ");
      const stop = onStopSignals((what) => console.error(`${what}: stopping after this architecture's checkpoint; run the zoo again to continue`));
      keepGoingWithoutOutput();
      try {
        const dir = resolve(opts.dir ?? zooDir());
        // The results already written there: architectures this run does not train keep their entries.
        const previousFile = join(resolve(opts.reportDir ?? docs), "zoo.json");
        const previous = existsSync(previousFile) ? readZooResults(previousFile) : undefined;
        const { results, complete } = await runZoo({
          ...(previous ? { previous } : {}),
          ...(opts.only ? { only: opts.only } : {}),
          ...(opts.iters !== undefined ? { iters: opts.iters } : {}),
          backend: opts.backend,
          data: opts.data,
          dir,
          command,
          shouldStop: stop.requested,
          log: (line) => console.error(line),
          reporter: (name) => trainReporter({ label: name, prefix: `${name}: ` }),
        });
        if (stop.requested()) return;
        if (opts.report && results.entries.length > 0) {
          // docs/ holds the whole zoo's report; a zoo with architectures missing writes beside its runs.
          const outDir = resolve(opts.reportDir ?? (complete ? docs : join(dir, "report")));
          makeDirs(outDir);
          const resultsFile = join(outDir, "zoo.json");
          writeOutputFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`, {
            label: resultsFile,
            command: "babygpt zoo",
            owns: (head) => head.includes(`"format": "${ZOO_FORMAT}"`),
            force: opts.force ?? false,
          });
          const { listZoo, projectAt } = await import("../../../compiler/compile.js");
          const have = new Set(results.entries.map((e) => e.spec));
          const missing = listZoo(projectAt(PROJECT_ROOT)).filter((s) => !have.has(s));
          const file = writeZooReport(results, { outDir, resultsFile, force: opts.force ?? false, missing });
          console.log(complete || opts.reportDir ? `wrote ${shown(file)}, zoo.svg and zoo.json` : `wrote the report of ${results.entries.length} architectures to ${shown(file)} (docs/zoo.md is the whole zoo's; ${missing.length} have no results at this budget yet)`);
        }
        for (const e of [...results.entries].sort((a, b) => a.valLoss - b.valLoss)) {
          console.log(`${e.name.padEnd(20)} val ${e.valLoss.toFixed(4)}  train ${e.trainLoss.toFixed(4)}  ${e.iters} iters  ${Math.round(e.tokensPerSec)} tok/s`);
        }
      } finally {
        stop.dispose();
      }
    });
}

// `babygpt ladder`: train every spec of the ladder and write docs/ladder.md. A ladder of some steps only
// (--only) writes its report beside its runs instead, never over the project's report.
import { join, relative } from "node:path";
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { BACKENDS, type BackendChoice } from "../../backend/choices.js";
import { UserError } from "../../errors.js";
import type { LadderEngine } from "../../ladder/ladder.js";
import { DEVICES, type DeviceChoice } from "../../torch/probe.js";
import { keepGoingWithoutOutput } from "../broken-output.js";
import { parseFloatOption, parseIntOption } from "../parse.js";
import { onStopSignals } from "../stop-signals.js";
import { trainReporter } from "../train-reporter.js";

function parseCap(value: string, previous: Map<string, number> = new Map()): Map<string, number> {
  const m = /^([a-z][a-z0-9_-]*)=(\d+)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`--cap needs name=iterations, e.g. --cap gpt=300; got "${value}"`);
  return new Map(previous).set(m[1]!, Number(m[2]));
}

export function registerLadder(program: Command): void {
  program
    .command("ladder")
    .description("train every spec in specs/ in order and write the report docs/ladder.md (resumes where it stopped)")
    .option("--only <names...>", "run only these steps (spec names or file names); the report then goes to runs/ladder/report/, not docs/")
    .option("--iters-scale <f>", "multiply every spec's max_iters (more than 0, at most 100)", parseFloatOption("--iters-scale", 0, { above: true, max: 100 }), 1)
    .option("--cap <name=iters>", "cap a step's iterations where its budget does not fit this machine (repeatable)", parseCap)
    .option("--ablate", "then train the modern step's ablation: one of its changes undone at a time, at the same budget")
    .option("--quick", "20 steps per spec at a small batch (a smoke test); writes runs/ladder-quick, no report")
    .option("--backend <name>", `tensor backend: ${BACKENDS.join(", ")}`, "auto")
    .option("--engine <engine>", "tfjs (the TypeScript trainer) or torch (the same specs under PyTorch, for the report's PyTorch column)", parseEngine, "tfjs")
    .option("--nproc <n>", "torch: processes", parseIntOption("--nproc", 1))
    .option("--device <device>", `torch: ${DEVICES.join(", ")}`, parseDevice)
    .option("--data <path>", "corpus file or directory")
    .option("--no-report", "train only; do not write a report")
    .option("--report-dir <dir>", "write the report there instead of docs/ (or, with --only, beside the runs)")
    .option("--force", "replace a ladder.md that the ladder did not write")
    .action(async (opts: { only?: string[]; itersScale: number; cap?: Map<string, number>; ablate?: boolean; quick?: boolean; backend: BackendChoice; engine: LadderEngine; nproc?: number; device?: DeviceChoice; data?: string; report: boolean; reportDir?: string; force?: boolean }) => {
      if (opts.engine === "tfjs" && (opts.nproc !== undefined || opts.device !== undefined)) throw new UserError("--nproc and --device are flags of the torch engine; add --engine torch");
      const { ladderDir, readLadderState, runLadder } = await import("../../ladder/ladder.js");
      const { writeLadderReport } = await import("../../ladder/report.js");
      const command = ["npx babygpt ladder", ...process.argv.slice(3)].join(" ");
      const stop = onStopSignals((what) => console.error(`${what}: stopping after this step's checkpoint; run the ladder again to continue`));
      keepGoingWithoutOutput();
      try {
        const state = await runLadder({
          ...(opts.only ? { only: opts.only } : {}),
          itersScale: opts.itersScale,
          ...(opts.cap ? { caps: opts.cap } : {}),
          quick: opts.quick ?? false,
          ablate: opts.ablate ?? false,
          backend: opts.backend,
          engine: opts.engine,
          ...(opts.engine === "torch" ? { torch: { ...(opts.nproc ? { nproc: opts.nproc } : {}), ...(opts.device ? { device: opts.device } : {}) } } : {}),
          command,
          data: opts.data,
          shouldStop: stop.requested,
          log: (line) => console.error(line),
          reporter: (name) => trainReporter({ label: name, prefix: `${name}: ` }),
        });
        if (stop.requested()) return;
        if (opts.report && !opts.quick) {
          // The report is the tfjs ladder's, with the torch ladder's results beside it where there are any.
          const tfjs = opts.engine === "tfjs" ? state : readLadderState(ladderDir(false, "tfjs"));
          const torch = opts.engine === "torch" ? state : readLadderState(ladderDir(false, "torch"));
          if (Object.keys(tfjs.steps).length === 0) {
            console.error(`no tfjs ladder in ${ladderDir(false, "tfjs")} yet: run \`npx babygpt ladder\` for the report, which shows both engines`);
          } else {
            // docs/ladder.md is the report of the whole ladder; a tfjs run of some steps must not replace it
            // (a torch run of some steps only adds its columns to the tfjs ladder's report).
            const partial = opts.only !== undefined && opts.engine === "tfjs" && opts.reportDir === undefined;
            const outDir = opts.reportDir ?? (partial ? join(ladderDir(false, "tfjs"), "report") : undefined);
            const file = await writeLadderReport(tfjs, { command: tfjs.run?.command ?? command, torch, force: opts.force ?? false, ...(outDir ? { outDir } : {}) });
            const steps = Object.keys(tfjs.steps).length;
            console.log(partial ? `wrote the report of ${steps} step${steps === 1 ? "" : "s"} to ${relative(process.cwd(), file)} (--only leaves docs/ladder.md alone; run the whole ladder to update it)` : `wrote ${file}`);
          }
        }
        for (const s of Object.values(state.steps).sort((a, b) => (a.spec < b.spec ? -1 : 1))) {
          console.log(`${s.name.padEnd(14)} val ${s.valLoss.toFixed(4)}  train ${s.trainLoss.toFixed(4)}  ${s.iters} iters  ${Math.round(s.tokensPerSec)} tok/s`);
        }
      } finally {
        stop.dispose();
      }
    });
}

function parseEngine(value: string): LadderEngine {
  if (value === "tfjs" || value === "torch") return value;
  throw new InvalidArgumentError(`--engine must be tfjs or torch; got "${value}"`);
}

function parseDevice(value: string): DeviceChoice {
  if ((DEVICES as readonly string[]).includes(value)) return value as DeviceChoice;
  throw new InvalidArgumentError(`--device must be ${DEVICES.join(", ")}; got "${value}"`);
}

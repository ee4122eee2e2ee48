// `babygpt train <spec>`: trains the spec's generated model with a progress bar; Ctrl-C saves a
// checkpoint and exits 0, a second Ctrl-C exits at once (the checkpoint protocol keeps the last one whole).
import type { Command } from "commander";
import { BACKENDS, type BackendChoice } from "../../backend/select.js";
import { train } from "../../train/trainer.js";
import { parseIntOption } from "../parse.js";
import { progress, type Progress } from "../progress.js";

export interface TrainFlags {
  data?: string;
  out?: string;
  iters?: number;
  backend: BackendChoice;
  resume?: string;
  set?: string[];
  compile: boolean;
  quiet?: boolean;
}

export function registerTrain(program: Command): void {
  program
    .command("train")
    .description("train a spec's generated model; writes a run directory with checkpoints and metrics")
    .argument("[spec]", "spec file (optional with --resume)")
    .option("--data <path>", "corpus file, or a directory holding tinyshakespeare.txt (default: $BABYGPT_DATA_DIR, the cache, or a download)")
    .option("--out <dir>", "run directory (default: runs/<spec>-<time>)")
    .option("--iters <n>", "number of optimizer steps (overrides training.max_iters)", parseIntOption("--iters", 1))
    .option("--backend <name>", `tensor backend: ${BACKENDS.join(", ")}`, "auto")
    .option("--resume <run>", "continue the run in this directory from its checkpoint")
    .option("--set <key=value...>", "override spec fields, e.g. --set training.optimizer.lr=3e-4")
    .option("--no-compile", "refuse to train when the generated file is missing or stale, instead of compiling it")
    .option("--quiet", "no progress bar")
    .action(async (spec: string | undefined, flags: TrainFlags) => {
      let stopRequested = false;
      let bar: Progress | undefined;
      const onSigint = (): void => {
        if (stopRequested) process.exit(130);
        stopRequested = true;
        bar?.log("stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)");
      };
      process.on("SIGINT", onSigint);
      try {
        const result = await train({
          spec,
          sets: flags.set ?? [],
          data: flags.data,
          out: flags.out,
          iters: flags.iters,
          backend: flags.backend,
          resume: flags.resume,
          compile: flags.compile,
          shouldStop: () => stopRequested,
          reporter: {
            log: (line) => (bar ? bar.log(line) : console.error(line)),
            step: (step, max, loss, tps) => {
              bar ??= progress("train", max, process.stderr, flags.quiet);
              bar.update(step, `loss ${loss.toFixed(4)} | ${Math.round(tps).toLocaleString("en-US")} tok/s`);
            },
            done: () => bar?.done(),
          },
        });
        const last = result.evals.at(-1);
        const losses = last ? `train loss ${last.train.toFixed(4)}, val loss ${last.val.toFixed(4)}` : "";
        // an interrupted run was last evaluated before the step it stopped at: say when
        const summary = last && last.step !== result.step ? `${losses} at step ${last.step}` : losses;
        console.log(
          `${result.status === "interrupted" ? "interrupted" : "finished"} at step ${result.step}${summary ? `: ${summary}` : ""}; ` +
            `${Number.isFinite(result.msPerIter) ? `${result.msPerIter.toFixed(1)} ms/iter, ${Math.round(result.tokensPerSec).toLocaleString("en-US")} tokens/s on ${result.backend.name}; ` : ""}` +
            `checkpoint in ${result.runDir}`,
        );
      } finally {
        process.off("SIGINT", onSigint);
      }
    });
}

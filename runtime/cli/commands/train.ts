// `babygpt train <spec>`: trains the spec's generated model with a progress bar. Ctrl-C, SIGTERM and
// SIGHUP save a checkpoint and exit 0; a second one exits at once (the checkpoint protocol keeps the last
// one whole). A closed stdout or stderr does not stop it. The same holds for the torch engine.
import { existsSync } from "node:fs";
import { InvalidArgumentError, type Command } from "commander";
import { BACKENDS, type BackendChoice } from "../../backend/choices.js";
import { OTHER_DATA_FLAG } from "../../data/run-corpus.js";
import { UserError } from "../../errors.js";
import { DEVICES, type DeviceChoice } from "../../torch/probe.js";
import { keepGoingWithoutOutput } from "../broken-output.js";
import { parseIntOption, repeatable, SET_HELP } from "../parse.js";
import { onStopSignals } from "../stop-signals.js";
import { trainReporter } from "../train-reporter.js";

export interface TrainFlags {
  data?: string;
  otherData?: boolean;
  textField?: string;
  out?: string;
  iters?: number;
  backend: BackendChoice;
  resume?: string;
  set?: string[];
  compile: boolean;
  quiet?: boolean;
  engine: Engine;
  nproc?: number;
  device?: DeviceChoice;
  nnodes?: number;
  nodeRank?: number;
  rdzvEndpoint?: string;
  microBatch?: number;
}

/** tfjs: the TypeScript trainer on TensorFlow.js; torch: the generated PyTorch module under torchrun. */
export const ENGINES = ["tfjs", "torch"] as const;
export type Engine = (typeof ENGINES)[number];

const TORCH_FLAGS = [
  ["nproc", "--nproc"],
  ["device", "--device"],
  ["nnodes", "--nnodes"],
  ["nodeRank", "--node-rank"],
  ["rdzvEndpoint", "--rdzv-endpoint"],
  ["microBatch", "--micro-batch"],
] as const;

function parseChoice<T extends string>(flag: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    if ((choices as readonly string[]).includes(value)) return value as T;
    throw new InvalidArgumentError(`${flag} must be ${choices.join(", ")}; got "${value}"`);
  };
}

export function registerTrain(program: Command): void {
  program
    .command("train")
    .description("train a spec's generated model; writes a run directory with checkpoints and metrics")
    .argument("[spec]", "spec file (optional with --resume)")
    .option("--data <path>", "corpus: a file, a directory or a glob of .txt/.jsonl files (gzip too), each a document (default: $BABYGPT_DATA_DIR, the cache, or a download; with --resume, the run's own corpus)")
    .option(OTHER_DATA_FLAG, "with --resume: continue on a --data that is not the corpus the run was trained on")
    .option("--text-field <name>", "the field of a .jsonl line that holds its text (default: text)")
    .option("--out <dir>", "run directory (default: runs/<spec>-<time> in the current directory)")
    .option("--iters <n>", "train until this step (overrides training.max_iters); with --resume, the total counting the steps already done", parseIntOption("--iters", 1))
    .option("--backend <name>", `tensor backend: ${BACKENDS.join(", ")}`, "auto")
    .option("--resume <run>", "continue the run in this directory from its checkpoint (in place; not with --out)")
    .option("--set <key=value>", SET_HELP, repeatable)
    .option("--no-compile", "refuse to train when the generated file is missing or stale, instead of training freshly emitted code")
    .option("--quiet", "no progress bar (log lines and evaluations are still printed)")
    .option("--engine <engine>", "tfjs: the TypeScript trainer; torch: the generated PyTorch module under torchrun", parseChoice("--engine", ENGINES), "tfjs")
    .option("--nproc <n>", "torch: processes on this machine, one per GPU with --device cuda (default 1)", parseIntOption("--nproc", 1))
    .option("--device <device>", `torch: ${DEVICES.join(", ")} (default auto: cuda when there are GPUs enough)`, parseChoice("--device", DEVICES))
    .option("--nnodes <n>", "torch: machines in the job (each runs this command)", parseIntOption("--nnodes", 1))
    .option("--node-rank <n>", "torch: this machine's rank among them, 0 to nnodes-1", parseIntOption("--node-rank", 0))
    .option("--rdzv-endpoint <host:port>", "torch: node 0's address, which every machine can reach")
    .option("--micro-batch <n>", "torch: sequences per forward pass on one process; the rest of its share is accumulated", parseIntOption("--micro-batch", 1))
    .action(async (spec: string | undefined, flags: TrainFlags) => {
      // `--set a=1 b=2 spec.yaml`: b=2 lands here now that --set takes one value
      if (spec !== undefined && /^[\w.-]+=/.test(spec) && !existsSync(spec)) {
        throw new UserError(`${spec} looks like a key=value override, not a spec file; --set takes one, so repeat the flag: --set ${spec}`);
      }
      if (flags.engine !== "torch") {
        const given = TORCH_FLAGS.find(([key]) => flags[key] !== undefined);
        if (given) throw new UserError(`${given[1]} is a flag of the torch engine; add --engine torch`);
      } else if (flags.backend !== "auto") {
        throw new UserError("--backend picks a tfjs backend; the torch engine takes --device cpu|cuda|auto");
      }
      const reporter = trainReporter({ quiet: flags.quiet ?? false });
      const stop = onStopSignals((what) => reporter.log(`${what}: stopping after this step and saving a checkpoint (${what === "Ctrl-C" ? "Ctrl-C again" : "a second signal"} quits at once)`));
      keepGoingWithoutOutput();
      const job = {
        spec,
        sets: flags.set ?? [],
        data: flags.data,
        otherData: flags.otherData,
        textField: flags.textField,
        out: flags.out,
        iters: flags.iters,
        resume: flags.resume,
        compile: flags.compile,
        shouldStop: stop.requested,
        reporter,
      };
      try {
        if (flags.engine === "torch") {
          const { trainTorch } = await import("../../torch/engine.js");
          const result = await trainTorch({
            ...job,
            nproc: flags.nproc,
            device: flags.device,
            nnodes: flags.nnodes,
            nodeRank: flags.nodeRank,
            rdzvEndpoint: flags.rdzvEndpoint,
            microBatch: flags.microBatch,
          });
          if (result.nodeRank > 0) {
            console.log(`node ${result.nodeRank}: its processes ${result.status === "done" ? "finished" : "stopped"} at step ${result.step}; node 0 writes the run's checkpoints and metrics`);
            return;
          }
          console.log(summaryLine(result) + (result.exact ? `; exact val loss ${result.exact.loss.toFixed(4)} over ${result.exact.tokens.toLocaleString("en-US")} tokens` : "") + `; checkpoint in ${result.runDir}`);
          return;
        }
        const { train } = await import("../../train/trainer.js");
        const result = await train({ ...job, backend: flags.backend });
        console.log(`${summaryLine(result)}; checkpoint in ${result.runDir}`);
      } finally {
        stop.dispose();
      }
    });
}

interface Summarized {
  readonly step: number;
  readonly status: "done" | "interrupted";
  readonly evals: readonly { readonly step: number; readonly train: number; readonly val: number }[];
  readonly msPerIter: number;
  readonly tokensPerSec: number;
  readonly backend: { readonly name: string };
}

/** "finished at step N: train loss …, val loss …; … ms/iter, … tokens/s on …" for either engine. */
function summaryLine(result: Summarized): string {
  const last = result.evals.at(-1);
  const losses = last ? `train loss ${last.train.toFixed(4)}, val loss ${last.val.toFixed(4)}` : "";
  // an interrupted run was last evaluated before the step it stopped at: say when
  const summary = last && last.step !== result.step ? `${losses} at step ${last.step}` : losses;
  return (
    `${result.status === "interrupted" ? "interrupted" : "finished"} at step ${result.step}${summary ? `: ${summary}` : ""}` +
    `${Number.isFinite(result.msPerIter) ? `; ${result.msPerIter.toFixed(1)} ms/iter, ${Math.round(result.tokensPerSec).toLocaleString("en-US")} tokens/s on ${result.backend.name}` : ""}`
  );
}

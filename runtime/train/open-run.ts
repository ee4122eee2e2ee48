// Opening a run, the one pre-flight both engines share (the tfjs trainer, runtime/train/trainer.ts, and the
// torch engine, runtime/torch/engine.ts). First `openRun`: the checkpoint to resume, the spec with its
// overrides, the checks that can refuse the job, the lowering (and its warnings), the model-hash check and
// the training data; nothing is written yet. Then, once the engine has refused what it alone refuses,
// `new RunDir`: the run directory made and locked, a new run's resolved spec and tokenizer, the model's
// source and metrics.jsonl.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { formatWarning, lowerSpec, type ModelIR, type Spec } from "../../compiler/index.js";
import { writeFileAtomic } from "../../util/write-atomic.js";
import { loadCheckpoint, whyWriteFailed, type Checkpoint } from "../checkpoint/checkpoint.js";
import { RUN_SPEC, specSha256 } from "../checkpoint/run-spec.js";
import type { RunData } from "../data/run-data.js";
import { UserError } from "../errors.js";
import { appendOwnFile } from "./own-files.js";
import { newRunDir } from "./run-dir.js";
import { checkNewRunPlace, checkResumeSteps, trainingData, writeRunTokenizer, type DataChoice } from "./run-writer.js";
import { trainingSpec, type SpecChoice, type TrainingSpec } from "./training-spec.js";

export interface RunRequest extends SpecChoice, DataChoice {
  /** --out: the new run's directory (default runs/<spec>-<time>/). */
  readonly out?: string | undefined;
}

export interface RunReport {
  log(line: string): void;
  tokenizing?(done: number, total: number, status?: string): void;
}

/** A run ready to train: what it resumes, the spec it trains, its IR and its data. */
export interface OpenedRun extends RunData {
  /** The checkpoint a resumed run continues from. */
  readonly previous: Checkpoint | undefined;
  readonly chosen: TrainingSpec;
  readonly spec: Spec;
  readonly ir: ModelIR;
  /** The tokenizer's vocabulary: the model's vocab_size. */
  readonly vocab: number;
  /** The spec file, as the user named it, for messages. */
  readonly shown: string;
}

/**
 * Everything that can refuse the job before anything is compiled, allocated or written; `refuse` adds the
 * engine's own checks (it runs before the corpus is read, which can take minutes).
 */
export async function openRun(request: RunRequest, report: RunReport, refuse?: (run: Pick<OpenedRun, "spec" | "ir" | "shown">) => void): Promise<OpenedRun> {
  const previous = request.resume ? loadCheckpoint(resolve(request.resume)) : undefined;
  const chosen = trainingSpec(request, previous, (line) => report.log(line));
  const { spec } = chosen.loaded;
  const shown = chosen.loaded.files[0]!.path;
  if (previous) checkResumeSteps(request.resume!, previous.meta.step, spec.training.max_iters, request.iters);
  else checkNewRunPlace(request.out);
  const ir = lowerSpec(chosen.loaded);
  if (!previous) for (const w of ir.warnings) process.stderr.write(`${formatWarning(w)}\n`);
  if (previous && previous.meta.spec.modelHash !== ir.modelHash) {
    const m = previous.meta.spec;
    throw new UserError(`the checkpoint in ${request.resume} belongs to spec "${m.name}" (${m.path}, model sha256 ${m.modelHash.slice(0, 12)}…), whose model differs from ${shown}'s`);
  }
  refuse?.({ spec, ir, shown });
  // A resumed run keeps the corpus it was trained on and its vocabulary.
  const { corpus, dataset } = await trainingData(request, previous, spec, report);
  return { previous, chosen, spec, ir, shown, corpus, dataset, vocab: dataset.tokenizer.vocabSize };
}

export interface RunFiles {
  /** Takes the run's lock when the engine does not hold it yet (a new run's directory has just been made). */
  readonly lock: (dir: string) => void;
  /** The model's source kept in the run (model.ts, model.py): the code that trains it. */
  readonly model: { readonly file: string; readonly text: string };
}

/** The directory a run writes, and its writers. */
export class RunDir {
  /** The step of the checkpoint on disk, once there is one: a failed write says it is intact. */
  savedStep: number | undefined;
  readonly dir: string;
  /** sha256 of spec.resolved.yaml, which every checkpoint records (a run from before it was recorded gets it now). */
  readonly specFile: string | undefined;
  private readonly metricsPath: string;

  constructor(run: OpenedRun, request: RunRequest, files: RunFiles) {
    const { previous, chosen, spec } = run;
    this.savedStep = previous?.meta.step;
    this.dir = request.resume ? resolve(request.resume) : this.writing(`the run directory ${request.out ?? ""}`.trimEnd(), () => newRunDir(spec.name, request.out));
    const dir = this.dir;
    files.lock(dir);
    let specFile = chosen.runSpecSha256;
    if (!previous) {
      const sets = chosen.sets;
      const resolvedSpec = `# ${run.shown}${sets.length ? ` with --set ${sets.join(" ")}` : ""}, after extends and defaults\n${stringify(spec)}`;
      this.writing(join(dir, RUN_SPEC), () => writeFileAtomic(join(dir, RUN_SPEC), resolvedSpec));
      specFile = specSha256(resolvedSpec);
      this.writing(join(dir, "tokenizer.json"), () => writeRunTokenizer(dir, run.dataset));
    }
    this.specFile = specFile;
    const modelFile = join(dir, files.model.file);
    if (!existsSync(modelFile) || readFileSync(modelFile, "utf8") !== files.model.text) this.writing(modelFile, () => writeFileAtomic(modelFile, files.model.text));
    const metricsPath = (this.metricsPath = join(dir, "metrics.jsonl"));
    this.writing(metricsPath, () => {
      appendOwnFile(metricsPath, ""); // created, or refused when a link stands there
      // A crash can cut the last record short; start the next one on a line of its own.
      const written = readFileSync(metricsPath);
      if (written.length > 0 && written[written.length - 1] !== 0x0a) appendOwnFile(metricsPath, "\n");
    });
  }

  /** Appends one record to metrics.jsonl. */
  metric(record: Record<string, unknown>): void {
    this.writing(this.metricsPath, () => appendOwnFile(this.metricsPath, `${JSON.stringify(record)}\n`));
  }

  /** Runs a write outside the checkpoint protocol: a full disk or a read-only directory is said in one line, with what is still safe. */
  writing<T>(what: string, write: () => T): T {
    try {
      return write();
    } catch (e) {
      const why = whyWriteFailed(e);
      if (why === undefined) throw e;
      throw new UserError(`could not write ${what} (${why})${this.savedStep === undefined ? "" : `; the checkpoint from step ${this.savedStep} is intact`}`);
    }
  }
}

// What every trainer (the tfjs one, runtime/train/trainer.ts, and the torch engine, runtime/torch/engine.ts)
// does before it writes into a run: the place of a new run checked, --resume and --out refused together, a resume with no step left to
// train refused with what --iters means there, the run's lock taken (runtime/train/run-lock.ts) for as
// long as the training lives, and the text it trains on: a resumed run's own corpus and vocabulary.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Spec } from "../../compiler/index.js";
import { writeFileAtomic } from "../../util/write-atomic.js";
import { hasCheckpoint, whyWriteFailed, type Checkpoint } from "../checkpoint/checkpoint.js";
import type { Dataset } from "../data/dataset.js";
import { dataFor, type RunData } from "../data/run-data.js";
import { tokenizerFromState } from "../data/tokenizer.js";
import { UserError } from "../errors.js";
import { checkOutputDir } from "../safe-output.js";
import { checkOutDir, runsDir } from "./run-dir.js";
import { describeHolder, lockRun, type RunLock } from "./run-lock.js";

/** A resumed run continues in its own directory: an --out beside --resume is refused, not ignored. */
export function checkResumeOut(resume: string | undefined, out: string | undefined): void {
  if (resume !== undefined && out !== undefined) {
    throw new UserError(`--out and --resume do not go together: a resumed run continues in its own directory (${resume}); to branch it, copy the directory and resume the copy`);
  }
}

/** Where a new run goes can take it: an --out that is new (or empty), or a runs folder that can be written. */
export function checkNewRunPlace(out: string | undefined): void {
  checkOutDir(out);
  if (out === undefined) checkOutputDir(runsDir(), `${runsDir()} (where runs go unless --out says otherwise)`);
}

/** A resume whose checkpoint is already at training.max_iters would train nothing: say why, and what --iters means. */
export function checkResumeSteps(resume: string, at: number, maxIters: number, iters: number | undefined): void {
  if (at < maxIters) return;
  throw new UserError(
    iters !== undefined
      ? `--iters ${iters}: ${resume} is at step ${at} already; with --resume, --iters is the step to train to, counting the steps done (--iters ${at + iters} trains ${iters} more)`
      : `${resume} has finished: it is at step ${at} of its ${maxIters} (training.max_iters); pass --iters with a larger total to train it further`,
  );
}

/** lockRun, with a disk that refuses the lock file said plainly (nothing can be written there, checkpoints included). */
export function lockOrSay(dir: string, onTakeover?: Parameters<typeof lockRun>[1]): RunLock {
  try {
    return lockRun(dir, onTakeover);
  } catch (e) {
    const why = whyWriteFailed(e);
    if (why === undefined) throw e;
    throw new UserError(`cannot train in ${dir}: its lock file could not be written (${why}); ${hasCheckpoint(dir) ? "the checkpoint there is intact" : "nothing was written"}`);
  }
}

/**
 * The lock of the run being resumed, taken before its checkpoint is read: loading a checkpoint may finish
 * or discard a half-written one, which is the writer's business. Undefined without --resume, or when the
 * path is not a directory (loading the checkpoint then says what is wrong).
 */
export function lockForResume(resume: string | undefined, log: (line: string) => void): RunLock | undefined {
  if (resume === undefined) return undefined;
  const dir = resolve(resume);
  if (!existsSync(dir)) throw new UserError(`${dir}: no such run directory`);
  if (!statSync(dir).isDirectory()) return undefined;
  return lockOrSay(dir, (stale) => log(`took over ${dir}'s lock from ${describeHolder(stale)}, which is no longer running`));
}

export interface DataChoice {
  readonly resume?: string | undefined;
  /** The --data flag, and --other-data: with --resume, a corpus other than the run's is what the user wants. */
  readonly data?: string | undefined;
  readonly otherData?: boolean | undefined;
  /** --text-field: the field of a .jsonl line that holds its text. */
  readonly textField?: string | undefined;
  /** Ctrl-C: a preparation of the corpus's tokens under way is abandoned. */
  readonly shouldStop?: (() => boolean) | undefined;
}

/**
 * The corpus and its splits for a training, from the token cache (prepared now when it is not there): on
 * --resume the run's own corpus (runtime/data/run-corpus.ts) with the run's own vocabulary, else --data (or
 * the default corpus) with the spec's tokenizer.
 */
export async function trainingData(
  choice: DataChoice,
  previous: Checkpoint | undefined,
  spec: Pick<Spec, "data" | "model">,
  report: { log(line: string): void; tokenizing?(done: number, total: number, status?: string): void },
): Promise<RunData> {
  // the vocabulary the model was built for is the tokenizer's: a meta.json that says otherwise is damaged
  if (previous) {
    const own = tokenizerFromState(previous.meta.tokenizer);
    if (own.vocabSize !== previous.meta.vocabSize) {
      throw new UserError(`${join(resolve(choice.resume!), "meta.json")} is damaged: its tokenizer has ${own.vocabSize} tokens, but vocabSize says ${previous.meta.vocabSize}`);
    }
  }
  return dataFor({
    ...(previous ? { run: { dir: choice.resume!, corpus: previous.meta.corpus, tokenizer: previous.meta.tokenizer } } : {}),
    options: { data: choice.data, otherData: choice.otherData, textField: choice.textField },
    spec,
    ...(choice.shouldStop ? { shouldStop: choice.shouldStop } : {}),
    report: { log: (line) => report.log(line), progress: (what, done, total, rate) => report.tokenizing?.(done, total, what === "merges" ? "merges learned" : `MB (${what})${rate ? ` ${rate}` : ""}`) },
  });
}

/** A learned BPE's tokenizer.json, kept in the run directory beside the run's spec (once, when the run starts). */
export function writeRunTokenizer(runDir: string, dataset: Dataset): void {
  const from = dataset.files?.tokenizerJson;
  if (from) writeFileAtomic(join(runDir, "tokenizer.json"), readFileSync(from));
}

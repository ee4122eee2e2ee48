// The tfjs trainer's loop, apart from opening the run (runtime/train/open-run.ts): every eval_interval
// steps a loss estimate and a checkpoint, then one training step (runtime/train/step.ts) on a batch from
// the run's own PRNG; a NaN stops or skips as training.on_nan says, a stop request ends it after a
// checkpoint, and the last step is evaluated and checkpointed.
import type { Spec } from "../../compiler/index.js";
import type { BackendInfo } from "../backend/select.js";
import { saveCheckpoint } from "../checkpoint/checkpoint.js";
import { tensorsOf } from "../checkpoint/model-state.js";
import { getBatch } from "../data/batches.js";
import { corpusRecord } from "../data/run-corpus.js";
import { UserError } from "../errors.js";
import type { LanguageModel } from "../nn/language-model.js";
import { tf } from "../nn/tf.js";
import type { Prng } from "../random.js";
import { versions } from "../versions.js";
import { estimateLoss } from "./evaluate.js";
import type { OpenedRun, RunDir } from "./open-run.js";
import type { Optimizer } from "./optimizer.js";
import type { RunLock } from "./run-lock.js";
import { learningRate } from "./schedule.js";
import { trainStep, type NamedParameters, type StepResult } from "./step.js";

export interface Reporter {
  log(line: string): void;
  step(step: number, maxIters: number, loss: number, tokensPerSec: number): void;
  done(): void;
  /** A loss estimate's progress: batches done of the total, over both splits. */
  evaluating?(step: number, done: number, total: number): void;
  /** Preparing the corpus's tokens (runtime/data/prepare.ts): MB done of the total, and what it is doing (called only for a large corpus). */
  tokenizing?(done: number, total: number, status?: string): void;
}

export interface EvalPoint {
  readonly step: number;
  readonly train: number;
  readonly val: number;
}

/** What the loop trains with: the opened run and its directory, the model, its optimizer and the batch stream. */
export interface LoopParts {
  readonly run: OpenedRun;
  readonly runDir: RunDir;
  readonly lock: RunLock;
  readonly net: LanguageModel;
  /** The model's namedParameters(), in the order the optimizer and the checkpoint keep them. */
  readonly params: NamedParameters;
  readonly optimizer: Optimizer;
  readonly batchRng: Prng;
  readonly backend: BackendInfo;
  readonly report: Reporter;
  readonly shouldStop: () => boolean;
}

export interface LoopResult {
  readonly step: number;
  readonly status: "done" | "interrupted";
  /** Training loss of every step this invocation ran, in order. */
  readonly losses: readonly number[];
  readonly evals: readonly EvalPoint[];
  readonly msPerIter: number;
}

export class TrainingLoop {
  private step: number;
  private lastEval: EvalPoint | undefined;
  private readonly evals: EvalPoint[] = [];
  private readonly t: Spec["training"];

  constructor(private readonly parts: LoopParts) {
    this.step = parts.run.previous?.meta.step ?? 0;
    this.lastEval = parts.run.previous?.meta.lastEval;
    this.t = parts.run.spec.training;
  }

  async run(): Promise<LoopResult> {
    const { run, runDir, net, optimizer, batchRng, report, shouldStop } = this.parts;
    const { t } = this;
    const resumedAt = run.previous?.meta.step;
    const losses: number[] = [];
    const logEvery = Math.max(1, Math.round(t.eval_interval / 10));
    const tokensPerStep = t.batch_size * run.spec.model.block_size;
    let status: LoopResult["status"] = "done";
    let trainMs = 0;
    let timedSteps = 0;
    net.train();
    while (this.step < t.max_iters) {
      if (this.step % t.eval_interval === 0 && !(this.step === resumedAt && this.lastEval?.step === this.step)) {
        const evaluated = await this.evaluate();
        await this.checkpoint();
        if (!evaluated) {
          report.log(`the evaluation at step ${this.step} was cut short; the checkpoint holds this step's weights`);
          status = "interrupted";
          break;
        }
      }
      const started = performance.now();
      const lr = learningRate(this.step, t.optimizer.lr, t.schedule, t.max_iters);
      const { x, y } = getBatch(run.dataset.train, t.batch_size, run.spec.model.block_size, batchRng);
      let result: StepResult;
      try {
        result = await trainStep(net, this.parts.params, x, y, optimizer, lr, t.grad_clip);
      } finally {
        tf.dispose([x, y]);
      }
      const { loss } = result;
      if (!result.applied) {
        runDir.metric({ type: "nan", step: this.step, loss: String(loss) });
        if (t.on_nan === "stop") throw this.nanStop(loss);
        report.log(`step ${this.step}: loss ${loss}, batch skipped (training.on_nan: skip)`);
        this.step += 1;
        continue;
      }
      losses.push(loss);
      this.step += 1;
      const ms = performance.now() - started;
      if (losses.length > 1) {
        trainMs += ms; // the first step warms up kernels; leave it out of the rate
        timedSteps += 1;
      }
      const tokensPerSec = timedSteps > 0 ? (tokensPerStep * timedSteps) / (trainMs / 1000) : tokensPerStep / (ms / 1000);
      report.step(this.step, t.max_iters, loss, tokensPerSec);
      // The cross-entropy as loss; what the layers added to it (the experts' load balancing) apart.
      const aux = result.auxLoss === undefined ? {} : { aux_loss: result.auxLoss };
      if (this.step % logEvery === 0) runDir.metric({ type: "train", step: this.step, loss, ...aux, lr, ms_per_iter: ms, tokens_per_sec: tokensPerSec });
      if (t.checkpoint_interval > 0 && this.step % t.checkpoint_interval === 0) await this.checkpoint();
      await new Promise((r) => setImmediate(r)); // let signals (Ctrl-C) be delivered
      if (shouldStop()) {
        status = "interrupted";
        break;
      }
    }
    if (status === "done" && this.lastEval?.step !== this.step && !(await this.evaluate())) {
      report.log(`the final evaluation, at step ${this.step}, was cut short; the checkpoint holds the finished weights`);
    }
    // (an evaluation cut short has just checkpointed this step)
    if (status === "done" || runDir.savedStep !== this.step) await this.checkpoint();
    report.done();
    return { step: this.step, status, losses, evals: this.evals, msPerIter: timedSteps > 0 ? trainMs / timedSteps : NaN };
  }

  private async checkpoint(): Promise<void> {
    const { run, runDir, lock, net, optimizer, batchRng, backend } = this.parts;
    const { chosen, spec } = run;
    lock.assertHeld();
    saveCheckpoint(runDir.dir, await tensorsOf(this.parts.params), await tensorsOf(optimizer.state().slots), {
      step: this.step,
      spec: { name: spec.name, path: chosen.origin.path, sha256: chosen.origin.sha256, modelHash: run.ir.modelHash },
      corpus: corpusRecord(run.corpus),
      tokenizer: run.dataset.tokenizer.state(),
      vocabSize: run.vocab,
      rng: { batches: batchRng.state, dropout: net.dropoutSeeds.state },
      optimizerStep: optimizer.step,
      backend: backend.name,
      ...(backend.skipped.length ? { backendSkipped: backend.skipped } : {}),
      ...(backend.adapter ? { adapter: backend.adapter } : {}),
      versions: versions(),
      ...(this.lastEval ? { lastEval: this.lastEval } : {}),
      overrides: chosen.sets,
      ...(runDir.specFile === undefined ? {} : { specFile: runDir.specFile }),
    });
    runDir.savedStep = this.step;
  }

  private nanStop(loss: number): UserError {
    const { dir, savedStep } = this.parts.runDir;
    const last =
      savedStep === undefined
        ? "no checkpoint was written yet"
        : savedStep < this.step
          ? `the last good checkpoint is in ${dir} (step ${savedStep})`
          : `the last checkpoint, in ${dir} (step ${savedStep}), holds the weights that gave this loss`;
    return new UserError(`the loss became ${loss} at step ${this.step}; ${last}. Lower the learning rate, set training.grad_clip, or set training.on_nan: skip`);
  }

  /**
   * Estimates the losses before a checkpoint; with on_nan: stop, weights whose loss is not finite are not
   * checkpointed. False when a stop request cut it short (nothing is recorded then).
   */
  private async evaluate(): Promise<boolean> {
    const { run, runDir, net, report, shouldStop } = this.parts;
    const { t, step } = this;
    const progress = (offset: number) => (done: number) => report.evaluating?.(step, offset + done, 2 * t.eval_iters);
    const train = await estimateLoss(net, run.dataset.train, t.batch_size, t.eval_iters, t.seed, step, { shouldStop, onProgress: progress(0) });
    if (train === undefined) return false;
    const val = await estimateLoss(net, run.dataset.val, t.batch_size, t.eval_iters, t.seed + 1, step, { shouldStop, onProgress: progress(t.eval_iters) });
    if (val === undefined) return false;
    runDir.metric({ type: "eval", step, train_loss: train, val_loss: val, time: new Date().toISOString() });
    report.log(`step ${step}: train loss ${train.toFixed(4)}, val loss ${val.toFixed(4)}`);
    if (t.on_nan === "stop" && !(Number.isFinite(train) && Number.isFinite(val))) throw this.nanStop(Number.isFinite(train) ? val : train);
    this.lastEval = { step, train, val };
    this.evals.push(this.lastEval);
    return true;
  }
}

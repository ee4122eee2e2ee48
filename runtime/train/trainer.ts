// The training loop: spec → generated model → batches → training steps (runtime/train/step.ts: forward,
// backward, clip, optimizer), with loss estimates every eval_interval steps, metrics.jsonl, atomic
// checkpoints, resume, NaN handling and a clean stop on request (Ctrl-C, SIGTERM, SIGHUP). The run
// directory is locked for the whole training (runtime/train/run-lock.ts), and the run records the
// corpus it trains on, which a resume uses again.
import { existsSync, readFileSync } from "node:fs";
import { totalmem } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { formatWarning, largestTensor, lowerSpec, trainingBytes } from "../../compiler/index.js";
import { writeFileAtomic } from "../../util/write-atomic.js";
import { describeBackend, selectBackend, type BackendChoice, type BackendInfo } from "../backend/select.js";
import { adapterLine } from "../webgpu/adapter.js";
import { bufferLimit } from "../webgpu/limits.js";
import { loadCheckpoint, saveCheckpoint, whyWriteFailed } from "../checkpoint/checkpoint.js";
import { RUN_SPEC, specSha256 } from "../checkpoint/run-spec.js";
import { loadParameters, tensorsOf, toTensorMap } from "../checkpoint/model-state.js";
import { getBatch } from "../data/batches.js";
import { corpusRecord } from "../data/run-corpus.js";
import { formatBytes } from "../../util/format.js";
import { UserError } from "../errors.js";
import { tf } from "../nn/tf.js";
import { resolveModel } from "../model-source.js";
import { PROJECT_ROOT } from "../paths.js";
import { Prng } from "../random.js";
import { versions } from "../versions.js";
import { estimateLoss } from "./evaluate.js";
import { Optimizer } from "./optimizer.js";
import { appendOwnFile } from "./own-files.js";
import { newRunDir } from "./run-dir.js";
import type { RunLock } from "./run-lock.js";
import { checkNewRunPlace, checkResumeOut, checkResumeSteps, lockForResume, lockOrSay, trainingData, writeRunTokenizer } from "./run-writer.js";
import { trainingSpec } from "./training-spec.js";
import { learningRate } from "./schedule.js";
import { trainStep, type StepResult } from "./step.js";

/** The most a model's training may need on the wasm backend (a 4 GiB heap, a quarter kept for temporaries). */
const WASM_TRAINING_LIMIT = 3 * 2 ** 30;

export interface TrainOptions {
  /** Spec file; optional with `resume` (the run's own spec is used). */
  readonly spec?: string | undefined;
  readonly sets?: readonly string[];
  readonly data?: string | undefined;
  /** With `resume`: train on `data` although it is not the corpus the run was trained on. */
  readonly otherData?: boolean | undefined;
  /** The field of a .jsonl line that holds its text (default "text"). */
  readonly textField?: string | undefined;
  readonly out?: string | undefined;
  /** Overrides training.max_iters: the step to train to (with `resume`, counting the steps already done). */
  readonly iters?: number | undefined;
  readonly backend?: BackendChoice;
  readonly resume?: string | undefined;
  /** Compile a missing or stale generated file (default); false refuses instead. */
  readonly compile?: boolean;
  /** Polled between steps and between evaluation batches; true stops after checkpointing (Ctrl-C). */
  readonly shouldStop?: () => boolean;
  /** Progress and log lines. */
  readonly reporter?: Reporter;
}

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

export interface TrainResult {
  readonly runDir: string;
  readonly step: number;
  readonly status: "done" | "interrupted";
  readonly backend: BackendInfo;
  /** Training loss of every step this invocation ran, in order. */
  readonly losses: readonly number[];
  readonly evals: readonly EvalPoint[];
  readonly tokensPerSec: number;
  readonly msPerIter: number;
}

const silent: Reporter = { log: () => {}, step: () => {}, done: () => {} };

export async function train(options: TrainOptions): Promise<TrainResult> {
  const report = options.reporter ?? silent;
  checkResumeOut(options.resume, options.out);
  // The lock comes first: loading a checkpoint may finish or discard a half-written one, which is the
  // writer's business.
  let lock = lockForResume(options.resume, (line) => report.log(line));
  try {
    return await trainLocked(options, report, () => lock, (l) => (lock = l));
  } finally {
    lock?.release();
  }
}

async function trainLocked(options: TrainOptions, report: Reporter, heldLock: () => RunLock | undefined, setLock: (lock: RunLock) => void): Promise<TrainResult> {
  const previous = options.resume ? loadCheckpoint(resolve(options.resume)) : undefined;
  const chosen = trainingSpec(options, previous, (line) => report.log(line));
  const { path: specPath, loaded, sets } = chosen;
  const { spec } = loaded;
  // Everything that can refuse the job does so before anything is compiled, allocated or written.
  if (previous) checkResumeSteps(options.resume!, previous.meta.step, spec.training.max_iters, options.iters);
  else checkNewRunPlace(options.out);
  const ir = lowerSpec(loaded);
  if (!previous) for (const w of ir.warnings) process.stderr.write(`${formatWarning(w)}\n`);
  if (previous && previous.meta.spec.modelHash !== ir.modelHash) {
    const m = previous.meta.spec;
    throw new UserError(`the checkpoint in ${options.resume} belongs to spec "${m.name}" (${m.path}, model sha256 ${m.modelHash.slice(0, 12)}…), whose model differs from ${loaded.files[0]!.path}'s`);
  }

  // Data and tokenizer (a resumed run keeps the corpus and the vocabulary it was trained with).
  const { corpus, dataset } = await trainingData(options, previous, spec, report);
  const vocab = dataset.tokenizer.vocabSize;
  const t = spec.training;
  const needed = trainingBytes(ir, vocab, t.batch_size);
  if (!(needed <= totalmem() * 0.8)) {
    const amount = Number.isFinite(needed) ? `about ${formatBytes(needed)}` : "more bytes than can be counted";
    throw new UserError(`${loaded.files[0]!.path}: training this model at batch ${t.batch_size} needs ${amount} (weights, gradients, Adam moments and activations), more than this machine's ${formatBytes(totalmem())}; shrink the model or the batch`);
  }

  const backend = await selectBackend(options.backend ?? "auto");
  // wasm memory is 32-bit: its heap stops at 4 GiB, and a model that does not fit aborts mid-step with
  // no message. A quarter is left for tfjs's temporaries, which the estimate does not count.
  if (backend.name === "wasm" && needed > WASM_TRAINING_LIMIT) {
    throw new UserError(`${loaded.files[0]!.path}: training this model at batch ${t.batch_size} needs about ${formatBytes(needed)}, more than the wasm backend can hold (its heap stops at 4 GiB); use the native backend (install g++ and libopenblas-dev, then npm ci), --backend cpu, or a smaller model or batch`);
  }
  if (backend.name === "webgpu") {
    // A tensor larger than one GPU buffer binding cannot be used by a shader; say so before allocating.
    const { webgpuLimits } = await import("../webgpu/backend.js");
    const limit = bufferLimit(await webgpuLimits());
    const largest = largestTensor(ir, vocab, t.batch_size);
    if (largest.bytes > limit) {
      throw new UserError(`${loaded.files[0]!.path}: training this model at batch ${t.batch_size} needs a GPU buffer of ${formatBytes(largest.bytes)} for ${largest.what}, more than this adapter allows in one buffer (${formatBytes(limit)}: maxStorageBufferBindingSize / maxBufferSize of ${backend.adapter ? adapterLine(backend.adapter) : "the adapter"}); lower training.batch_size or model.block_size, or use --backend native`);
    }
  }
  const model = await resolveModel(specPath, loaded, { compile: options.compile ?? true, sets });
  if (model.note) report.log(model.note);

  report.log(`backend: ${describeBackend(backend)}`);
  if (backend.adapter) report.log(`webgpu adapter: ${adapterLine(backend.adapter)}`);
  const net = model.module.createModel({ vocabSize: vocab, seed: t.seed });
  const params = net.namedParameters();
  const optimizer = new Optimizer(t.optimizer);
  const batchRng = new Prng(t.seed);
  net.dropoutSeeds.reseed(t.seed ^ 0x5bd1e995);
  let step = 0;
  /** The step of the checkpoint on disk, once there is one. */
  let savedStep = previous?.meta.step;
  // Writes outside the checkpoint protocol (run directory, model.ts, metrics): a full disk or a
  // read-only directory is said plainly, with what is still safe.
  const writing = <T>(what: string, write: () => T): T => {
    try {
      return write();
    } catch (e) {
      const why = whyWriteFailed(e);
      if (why === undefined) throw e;
      throw new UserError(`could not write ${what} (${why})${savedStep === undefined ? "" : `; the checkpoint from step ${savedStep} is intact`}`);
    }
  };
  const runDir = options.resume ? resolve(options.resume) : writing(`the run directory ${options.out ?? ""}`.trimEnd(), () => newRunDir(spec.name, options.out));
  if (!heldLock()) setLock(lockOrSay(runDir));
  const lock = heldLock()!;
  /** sha256 of spec.resolved.yaml: every checkpoint records it (a run from before it was recorded gets it now). */
  let runSpecSha256 = chosen.runSpecSha256;
  if (previous) {
    loadParameters(net, previous.model, join(runDir, "model.safetensors"));
    const slots = toTensorMap(previous.optimizer);
    try {
      optimizer.restore(previous.meta.optimizerStep, slots, params);
    } catch (e) {
      if (e instanceof UserError) throw new UserError(`${join(runDir, "optimizer.safetensors")} does not fit this model's optimizer: ${e.message}`);
      throw e;
    } finally {
      tf.dispose([...slots.values()]);
    }
    batchRng.state = previous.meta.rng.batches;
    net.dropoutSeeds.state = previous.meta.rng.dropout;
    step = previous.meta.step;
    report.log(`resuming ${runDir} at step ${step}`);
  } else {
    const resolvedSpec = `# ${loaded.files[0]!.path}${sets.length ? ` with --set ${sets.join(" ")}` : ""}, after extends and defaults\n${stringify(spec)}`;
    writing(join(runDir, RUN_SPEC), () => writeFileAtomic(join(runDir, RUN_SPEC), resolvedSpec));
    runSpecSha256 = specSha256(resolvedSpec);
    writing(join(runDir, "tokenizer.json"), () => writeRunTokenizer(runDir, dataset));
  }
  const modelFile = join(runDir, "model.ts");
  if (!existsSync(modelFile) || readFileSync(modelFile, "utf8") !== model.source) writing(modelFile, () => writeFileAtomic(modelFile, model.source));
  const metricsPath = join(runDir, "metrics.jsonl");
  writing(metricsPath, () => {
    appendOwnFile(metricsPath, ""); // created, or refused when a link stands there
    // A crash can cut the last record short; start the next one on a line of its own.
    const written = readFileSync(metricsPath);
    if (written.length > 0 && written[written.length - 1] !== 0x0a) appendOwnFile(metricsPath, "\n");
  });
  const metric = (record: Record<string, unknown>): void => writing(metricsPath, () => appendOwnFile(metricsPath, `${JSON.stringify(record)}\n`));
  report.log(`run directory: ${runDir}`);
  report.log(`${spec.name}: ${net.parameterCount().toLocaleString("en-US")} parameters, vocab ${vocab} (${dataset.tokenizer.kind}), ${dataset.train.length.toLocaleString("en-US")} train / ${dataset.val.length.toLocaleString("en-US")} val tokens`);

  let lastEval: EvalPoint | undefined = previous?.meta.lastEval;
  const evals: EvalPoint[] = [];
  const checkpoint = async (): Promise<void> => {
    lock.assertHeld();
    saveCheckpoint(runDir, await tensorsOf(params), await tensorsOf(optimizer.state().slots), {
      step,
      spec: { name: spec.name, path: chosen.origin.path, sha256: chosen.origin.sha256, modelHash: model.ir.modelHash },
      corpus: corpusRecord(corpus),
      tokenizer: dataset.tokenizer.state(),
      vocabSize: vocab,
      rng: { batches: batchRng.state, dropout: net.dropoutSeeds.state },
      optimizerStep: optimizer.step,
      backend: backend.name,
      ...(backend.skipped.length ? { backendSkipped: backend.skipped } : {}),
      ...(backend.adapter ? { adapter: backend.adapter } : {}),
      versions: versions(),
      ...(lastEval ? { lastEval } : {}),
      overrides: sets,
      ...(runSpecSha256 === undefined ? {} : { specFile: runSpecSha256 }),
    });
    savedStep = step;
  };
  const nanStop = (loss: number): UserError => {
    const last =
      savedStep === undefined
        ? "no checkpoint was written yet"
        : savedStep < step
          ? `the last good checkpoint is in ${runDir} (step ${savedStep})`
          : `the last checkpoint, in ${runDir} (step ${savedStep}), holds the weights that gave this loss`;
    return new UserError(`the loss became ${loss} at step ${step}; ${last}. Lower the learning rate, set training.grad_clip, or set training.on_nan: skip`);
  };
  /**
   * Estimates the losses before a checkpoint; with on_nan: stop, weights whose loss is not finite are not
   * checkpointed. False when a stop request cut it short (nothing is recorded then).
   */
  const evaluate = async (): Promise<boolean> => {
    const stop = options.shouldStop ?? (() => false);
    const progress = (offset: number) => (done: number) => report.evaluating?.(step, offset + done, 2 * t.eval_iters);
    const train = await estimateLoss(net, dataset.train, t.batch_size, t.eval_iters, t.seed, step, { shouldStop: stop, onProgress: progress(0) });
    if (train === undefined) return false;
    const val = await estimateLoss(net, dataset.val, t.batch_size, t.eval_iters, t.seed + 1, step, { shouldStop: stop, onProgress: progress(t.eval_iters) });
    if (val === undefined) return false;
    metric({ type: "eval", step, train_loss: train, val_loss: val, time: new Date().toISOString() });
    report.log(`step ${step}: train loss ${train.toFixed(4)}, val loss ${val.toFixed(4)}`);
    if (t.on_nan === "stop" && !(Number.isFinite(train) && Number.isFinite(val))) throw nanStop(Number.isFinite(train) ? val : train);
    lastEval = { step, train, val };
    evals.push(lastEval);
    return true;
  };

  const losses: number[] = [];
  const tokensPerStep = t.batch_size * spec.model.block_size;
  const logEvery = Math.max(1, Math.round(t.eval_interval / 10));
  let status: TrainResult["status"] = "done";
  let trainMs = 0;
  let timedSteps = 0;
  net.train();
  while (step < t.max_iters) {
    if (step % t.eval_interval === 0 && !(previous && step === previous.meta.step && lastEval?.step === step)) {
      const evaluated = await evaluate();
      await checkpoint();
      if (!evaluated) {
        report.log(`the evaluation at step ${step} was cut short; the checkpoint holds this step's weights`);
        status = "interrupted";
        break;
      }
    }
    const started = performance.now();
    const lr = learningRate(step, t.optimizer.lr, t.schedule, t.max_iters);
    const { x, y } = getBatch(dataset.train, t.batch_size, spec.model.block_size, batchRng);
    let result: StepResult;
    try {
      result = await trainStep(net, params, x, y, optimizer, lr, t.grad_clip);
    } finally {
      tf.dispose([x, y]);
    }
    const { loss } = result;
    if (!result.applied) {
      metric({ type: "nan", step, loss: String(loss) });
      if (t.on_nan === "stop") throw nanStop(loss);
      report.log(`step ${step}: loss ${loss}, batch skipped (training.on_nan: skip)`);
      step += 1;
      continue;
    }
    losses.push(loss);
    step += 1;
    const ms = performance.now() - started;
    if (losses.length > 1) {
      trainMs += ms; // the first step warms up kernels; leave it out of the rate
      timedSteps += 1;
    }
    const tokensPerSec = timedSteps > 0 ? (tokensPerStep * timedSteps) / (trainMs / 1000) : tokensPerStep / (ms / 1000);
    report.step(step, t.max_iters, loss, tokensPerSec);
    // The cross-entropy as loss; what the layers added to it (the experts' load balancing) apart.
    const aux = result.auxLoss === undefined ? {} : { aux_loss: result.auxLoss };
    if (step % logEvery === 0) metric({ type: "train", step, loss, ...aux, lr, ms_per_iter: ms, tokens_per_sec: tokensPerSec });
    if (t.checkpoint_interval > 0 && step % t.checkpoint_interval === 0) await checkpoint();
    await new Promise((r) => setImmediate(r)); // let signals (Ctrl-C) be delivered
    if (options.shouldStop?.()) {
      status = "interrupted";
      break;
    }
  }
  if (status === "done" && lastEval?.step !== step && !(await evaluate())) report.log(`the final evaluation, at step ${step}, was cut short; the checkpoint holds the finished weights`);
  // (an evaluation cut short has just checkpointed this step)
  if (status === "done" || savedStep !== step) await checkpoint();
  report.done();
  const msPerIter = timedSteps > 0 ? trainMs / timedSteps : NaN;
  const result: TrainResult = { runDir, step, status, backend, losses, evals, tokensPerSec: (tokensPerStep * 1000) / msPerIter, msPerIter };
  net.dispose();
  optimizer.dispose();
  return result;
}

// The tfjs trainer: the run opened as both engines open it (runtime/train/open-run.ts), the backend chosen
// and the model checked to fit it, the generated model built (its visible init step draws the weights) or
// restored from the checkpoint, then the loop (runtime/train/loop.ts). The run directory is locked for the
// whole training (runtime/train/run-lock.ts); Ctrl-C, SIGTERM and SIGHUP stop it after a checkpoint.
import { join, resolve } from "node:path";
import { totalmem } from "node:os";
import { largestTensor, trainingBytes } from "../../compiler/index.js";
import { describeBackend, prefetchBackend, selectBackend, type BackendChoice, type BackendInfo } from "../backend/select.js";
import { adapterLine } from "../webgpu/adapter.js";
import { bufferLimit } from "../webgpu/limits.js";
import { loadParameters, toTensorMap } from "../checkpoint/model-state.js";
import { formatBytes } from "../../util/format.js";
import { UserError } from "../errors.js";
import { tf } from "../nn/tf.js";
import { resolveModel } from "../model-source.js";
import { Prng } from "../random.js";
import { TrainingLoop, type EvalPoint, type Reporter } from "./loop.js";
import { openRun, RunDir, type OpenedRun, type RunRequest } from "./open-run.js";
import { Optimizer } from "./optimizer.js";
import type { RunLock } from "./run-lock.js";
import { checkResumeOut, lockForResume, lockOrSay } from "./run-writer.js";

export type { EvalPoint, Reporter } from "./loop.js";

/** The most a model's training may need on the wasm backend (a 4 GiB heap, a quarter kept for temporaries). */
const WASM_TRAINING_LIMIT = 3 * 2 ** 30;

export interface TrainOptions extends RunRequest {
  readonly backend?: BackendChoice;
  /** Compile a missing or stale generated file (default); false refuses instead. */
  readonly compile?: boolean;
  /** Polled between steps and between evaluation batches; true stops after checkpointing (Ctrl-C). */
  readonly shouldStop?: () => boolean;
  /** Progress and log lines. */
  readonly reporter?: Reporter;
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
  // The backend's probe runs while the spec, the run and the data are opened.
  prefetchBackend(options.backend ?? "auto");
  const run = await openRun(options, report);
  checkMemory(run);
  const backend = await selectBackend(options.backend ?? "auto");
  await checkBackendFits(run, backend);
  const model = await resolveModel(run.chosen.path, run.chosen.loaded, { compile: options.compile ?? true, sets: run.chosen.sets });
  if (model.note) report.log(model.note);
  report.log(`backend: ${describeBackend(backend)}`);
  if (backend.adapter) report.log(`webgpu adapter: ${adapterLine(backend.adapter)}`);

  const { spec, previous, dataset, vocab } = run;
  const t = spec.training;
  // a resumed run loads every weight from its checkpoint: nothing is drawn first
  const net = model.module.createModel({ vocabSize: vocab, seed: t.seed, initialize: previous === undefined });
  const params = net.namedParameters();
  const optimizer = new Optimizer(t.optimizer);
  const batchRng = new Prng(t.seed);
  net.dropoutSeeds.reseed(t.seed ^ 0x5bd1e995);
  if (previous) {
    const dir = resolve(options.resume!);
    loadParameters(net, previous.model, join(dir, "model.safetensors"));
    const slots = toTensorMap(previous.optimizer);
    try {
      optimizer.restore(previous.meta.optimizerStep, slots, params);
    } catch (e) {
      if (e instanceof UserError) throw new UserError(`${join(dir, "optimizer.safetensors")} does not fit this model's optimizer: ${e.message}`);
      throw e;
    } finally {
      tf.dispose([...slots.values()]);
    }
    batchRng.state = previous.meta.rng.batches;
    net.dropoutSeeds.state = previous.meta.rng.dropout;
  }
  const runDir = new RunDir(run, options, { lock: (dir) => heldLock() ?? setLock(lockOrSay(dir)), model: { file: "model.ts", text: model.source } });
  if (previous) report.log(`resuming ${runDir.dir} at step ${previous.meta.step}`);
  report.log(`run directory: ${runDir.dir}`);
  report.log(`${spec.name}: ${net.parameterCount().toLocaleString("en-US")} parameters, vocab ${vocab} (${dataset.tokenizer.kind}), ${dataset.train.length.toLocaleString("en-US")} train / ${dataset.val.length.toLocaleString("en-US")} val tokens`);

  const loop = new TrainingLoop({ run, runDir, lock: heldLock()!, net, params, optimizer, batchRng, backend, report, shouldStop: options.shouldStop ?? (() => false) });
  const done = await loop.run();
  net.dispose();
  optimizer.dispose();
  const tokensPerStep = t.batch_size * spec.model.block_size;
  return { runDir: runDir.dir, backend, ...done, tokensPerSec: (tokensPerStep * 1000) / done.msPerIter };
}

/** Weights, gradients, Adam moments and activations must fit this machine's memory. */
function checkMemory({ ir, vocab, spec, shown }: OpenedRun): void {
  const needed = trainingBytes(ir, vocab, spec.training.batch_size);
  if (!(needed <= totalmem() * 0.8)) {
    const amount = Number.isFinite(needed) ? `about ${formatBytes(needed)}` : "more bytes than can be counted";
    throw new UserError(`${shown}: training this model at batch ${spec.training.batch_size} needs ${amount} (weights, gradients, Adam moments and activations), more than this machine's ${formatBytes(totalmem())}; shrink the model or the batch`);
  }
}

/** What the chosen backend cannot hold is said before anything is allocated. */
async function checkBackendFits({ ir, vocab, spec, shown }: OpenedRun, backend: BackendInfo): Promise<void> {
  const batch = spec.training.batch_size;
  // wasm memory is 32-bit: its heap stops at 4 GiB, and a model that does not fit aborts mid-step with
  // no message. A quarter is left for tfjs's temporaries, which the estimate does not count.
  const needed = trainingBytes(ir, vocab, batch);
  if (backend.name === "wasm" && needed > WASM_TRAINING_LIMIT) {
    throw new UserError(`${shown}: training this model at batch ${batch} needs about ${formatBytes(needed)}, more than the wasm backend can hold (its heap stops at 4 GiB); use the native backend (install g++ and libopenblas-dev, then npm ci), --backend cpu, or a smaller model or batch`);
  }
  if (backend.name === "webgpu") {
    // A tensor larger than one GPU buffer binding cannot be used by a shader; say so before allocating.
    const { webgpuLimits } = await import("../webgpu/backend.js");
    const limit = bufferLimit(await webgpuLimits());
    const largest = largestTensor(ir, vocab, batch);
    if (largest.bytes > limit) {
      throw new UserError(`${shown}: training this model at batch ${batch} needs a GPU buffer of ${formatBytes(largest.bytes)} for ${largest.what}, more than this adapter allows in one buffer (${formatBytes(limit)}: maxStorageBufferBindingSize / maxBufferSize of ${backend.adapter ? adapterLine(backend.adapter) : "the adapter"}); lower training.batch_size or model.block_size, or use --backend native`);
    }
  }
}

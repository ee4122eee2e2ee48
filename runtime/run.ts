// Opening a finished (or interrupted) run for evaluation and sampling: its checkpoint, its resolved spec,
// the model code emitted from that spec, and the tokenizer it was trained with.
import { totalmem } from "node:os";
import { join, resolve } from "node:path";
import { inferenceBytes, loadSpec, lowerSpec, type ModelIR, type Spec } from "../compiler/index.js";
import { prefetchBackend, selectBackend, type BackendChoice, type BackendInfo } from "./backend/select.js";
import { loadCheckpoint, type CheckpointMeta } from "./checkpoint/checkpoint.js";
import { checkedRunSpec } from "./checkpoint/run-spec.js";
import { loadParameters } from "./checkpoint/model-state.js";
import { tokenizerFromState, type Tokenizer } from "./data/tokenizer.js";
import { formatBytes } from "../util/format.js";
import { UserError } from "./errors.js";
import { emittedModel } from "./model-source.js";
import type { LanguageModel } from "./nn/language-model.js";
import { PROJECT_ROOT } from "./paths.js";
import { liveHolder } from "./train/run-lock.js";

export interface OpenRun {
  readonly dir: string;
  readonly meta: CheckpointMeta;
  readonly spec: Spec;
  readonly ir: ModelIR;
  readonly tokenizer: Tokenizer;
  readonly model: LanguageModel;
  readonly backend: BackendInfo;
}

/**
 * The checkpoint of a run that may be in training right now. Its writer promotes a new checkpoint file by
 * file (meta.json last), so a read can meet a new model with an old meta.json: a mismatch while the run
 * is locked is read again after a moment.
 */
function readCheckpoint(dir: string): ReturnType<typeof loadCheckpoint> {
  for (let attempt = 0; ; attempt++) {
    const training = liveHolder(dir) !== undefined;
    try {
      return loadCheckpoint(dir, { recover: !training });
    } catch (e) {
      if (!training || attempt >= 20 || !(e instanceof UserError)) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
}

/** What a command does with the model it opens, for the memory check: windows per forward pass, and the verb. */
export interface RunUse {
  readonly batch: number;
  readonly what: string;
}

/** The most of this machine's memory a command may plan to use, as `train` allows. */
const MEMORY_SHARE = 0.8;

export async function openRun(runDir: string, backend: BackendChoice = "auto", use: RunUse = { batch: 1, what: "sample from it" }): Promise<OpenRun> {
  const dir = resolve(runDir);
  // the backend's probe runs while the run is read and checked
  prefetchBackend(backend);
  const checkpoint = readCheckpoint(dir);
  // checked against meta.json's hash before anything is built from it
  const specFile = checkedRunSpec(dir, checkpoint.meta).file;
  const loaded = loadSpec(specFile, { cwd: PROJECT_ROOT });
  const ir = lowerSpec(loaded);
  if (ir.modelHash !== checkpoint.meta.spec.modelHash) {
    throw new UserError(`${specFile} does not describe the model in ${dir}'s checkpoint (model sha256 ${ir.modelHash.slice(0, 12)}… vs ${checkpoint.meta.spec.modelHash.slice(0, 12)}…)`);
  }
  // emitted only now, as in resolveModel: a damaged or mismatched run is refused without loading ts-morph
  const module = await emittedModel(ir);
  const { meta } = checkpoint;
  // the vocabulary the model was built for is the tokenizer's: a meta.json that says otherwise is damaged
  const tokenizer = tokenizerFromState(meta.tokenizer);
  if (tokenizer.vocabSize !== meta.vocabSize) {
    throw new UserError(`${join(dir, "meta.json")} is damaged: its tokenizer has ${tokenizer.vocabSize} tokens, but vocabSize says ${meta.vocabSize}`);
  }
  // as train does: a model this machine cannot hold is refused before anything is allocated
  const needed = inferenceBytes(ir, meta.vocabSize, use.batch);
  if (!(needed <= totalmem() * MEMORY_SHARE)) {
    const amount = Number.isFinite(needed) ? `about ${formatBytes(needed)}` : "more bytes than can be counted";
    throw new UserError(`${dir}: this model needs ${amount} to ${use.what} (weights and activations at ${use.batch} ${use.batch === 1 ? "window" : "windows"} a pass), more than this machine's ${formatBytes(totalmem())}${use.batch > 1 ? "; try a smaller --batch" : ""}`);
  }
  const info = await selectBackend(backend);
  // every weight comes from the checkpoint: nothing is drawn first
  const model = module.createModel({ vocabSize: checkpoint.meta.vocabSize, seed: loaded.spec.training.seed, initialize: false });
  loadParameters(model, checkpoint.model, join(dir, "model.safetensors"));
  model.eval();
  return { dir, meta: checkpoint.meta, spec: loaded.spec, ir, tokenizer, model, backend: info };
}

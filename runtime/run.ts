// Opening a finished (or interrupted) run for evaluation and sampling: its checkpoint, its resolved spec,
// the model code emitted from that spec, and the tokenizer it was trained with.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { ModelIR } from "../compiler/ir/model.js";
import { lowerSpec } from "../compiler/ir/lower.js";
import { loadSpec } from "../compiler/spec/load.js";
import type { Spec } from "../compiler/spec/types.generated.js";
import { selectBackend, type BackendChoice, type BackendInfo } from "./backend/select.js";
import { loadCheckpoint, type CheckpointMeta } from "./checkpoint/checkpoint.js";
import { loadParameters } from "./checkpoint/model-state.js";
import { tokenizerFromState, type Tokenizer } from "./data/tokenizer.js";
import { UserError } from "./errors.js";
import { importSource } from "./model-source.js";
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

export async function openRun(runDir: string, backend: BackendChoice = "auto"): Promise<OpenRun> {
  const dir = resolve(runDir);
  const checkpoint = readCheckpoint(dir);
  const specFile = join(dir, "spec.resolved.yaml");
  if (!existsSync(specFile)) throw new UserError(`${dir} has no spec.resolved.yaml, so its architecture is unknown`);
  const loaded = loadSpec(specFile, { cwd: PROJECT_ROOT });
  const ir = lowerSpec(loaded);
  if (ir.modelHash !== checkpoint.meta.spec.modelHash) {
    throw new UserError(`${specFile} does not describe the model in ${dir}'s checkpoint (model sha256 ${ir.modelHash.slice(0, 12)}… vs ${checkpoint.meta.spec.modelHash.slice(0, 12)}…)`);
  }
  const runtimeUrl = pathToFileURL(join(PROJECT_ROOT, "runtime/nn/index.ts")).href;
  // loaded here, as in resolveModel: a damaged or mismatched run is refused without loading ts-morph
  const { emitTypeScript } = await import("../compiler/emit.js");
  const module = await importSource(emitTypeScript(ir, { runtimeImport: runtimeUrl }));
  const info = await selectBackend(backend);
  const tokenizer = tokenizerFromState(checkpoint.meta.tokenizer);
  const model = module.createModel({ vocabSize: checkpoint.meta.vocabSize, seed: loaded.spec.training.seed });
  loadParameters(model, checkpoint.model, join(dir, "model.safetensors"));
  model.eval();
  return { dir, meta: checkpoint.meta, spec: loaded.spec, ir, tokenizer, model, backend: info };
}

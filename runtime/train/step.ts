// One training step: forward, backward, clipping by the global norm, the optimizer's update. The trainer
// (runtime/train/trainer.ts) and the benchmark (bench/child.ts) both run exactly this, so the benchmark
// times what training runs.
//
// The loss (and, when clipping, the gradients' norm) are read with `await data()`, both at once: a GPU
// backend (webgpu) has no synchronous read in Node, and each read waits for the GPU to finish all the
// work queued before it, so one wait per step serves both. On the CPU backends the await costs a
// microtask.
import type { LanguageModel } from "../nn/language-model.js";
import { tf } from "../nn/tf.js";
import { globalNorm } from "../ops/global-norm.js";
import { clipScale } from "./clip.js";
import type { Optimizer } from "./optimizer.js";

export type NamedParameters = ReadonlyArray<readonly [string, tf.Variable]>;

export interface StepResult {
  /** The batch's loss before the update: the cross-entropy (or, when the step was not applied, what was not finite). */
  readonly loss: number;
  /**
   * What the model's layers added to the loss it trained on (ModelOutput.aux: a mixture of experts' load
   * balancing), for models that add any.
   */
  readonly auxLoss?: number;
  /** False when the loss was not finite: the gradients were dropped and no parameter changed. */
  readonly applied: boolean;
  /** The gradients' global norm before clipping, when clipping is on and the step was applied. */
  readonly gradNorm?: number;
}

const varLists = new WeakMap<NamedParameters, tf.Variable[]>();

function variablesOf(params: NamedParameters): tf.Variable[] {
  let vars = varLists.get(params);
  if (!vars) {
    vars = params.map(([, v]) => v);
    varLists.set(params, vars);
  }
  return vars;
}

/**
 * Trains `model` one step on inputs x and targets y (B, T): gradients of the loss with respect to
 * `params` (the model's namedParameters()), clipped to a global norm of gradClip when it is > 0, then
 * one optimizer update at learning rate lr. A loss that is not finite leaves the parameters and the
 * optimizer alone (the caller decides what to do). Disposes every tensor it makes; x and y stay the
 * caller's.
 */
export async function trainStep(
  model: LanguageModel,
  params: NamedParameters,
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  optimizer: Optimizer,
  lr: number,
  gradClip: number,
): Promise<StepResult> {
  const vars = variablesOf(params);
  // The gradient is of loss + aux; the two are kept past the forward's scope to be read apart.
  let parts: { loss: tf.Scalar; aux: tf.Scalar | undefined } | undefined;
  const f = (): tf.Scalar => {
    const out = model.forward(x, y);
    const loss = out.loss!;
    if (!out.aux) return loss;
    parts = { loss: tf.keep(loss), aux: tf.keep(out.aux) };
    return tf.add(loss, out.aux);
  };
  let value: tf.Tensor;
  let gradList: Array<tf.Tensor | undefined>;
  if (vars.every((v) => v.trainable)) {
    // What tf.variableGrads(f, vars) does, less its argument checks and its map by variable name: the
    // engine's gradients come in the order of vars.
    const r = tf.engine().gradients(f, vars, undefined, true);
    value = r.value;
    gradList = r.grads.map((g) => g ?? undefined);
  } else {
    const r = tf.variableGrads(f, vars);
    value = r.value;
    gradList = vars.map((v) => r.grads[v.name] ?? undefined);
  }
  let norm: tf.Scalar | undefined;
  try {
    if (value.rank !== 0) throw new Error(`the loss must be a scalar, got shape [${value.shape.join(", ")}]`);
    if (gradClip > 0) norm = globalNorm(gradList.filter((g): g is tf.Tensor => g !== undefined));
    const [lossValues, normValues, partValues] = await Promise.all([value.data(), norm?.data(), parts && Promise.all([parts.loss.data(), parts.aux!.data()])]);
    const total = lossValues[0]!;
    if (!Number.isFinite(total)) return { loss: total, applied: false };
    const loss = partValues ? partValues[0][0]! : total;
    const aux = partValues ? { auxLoss: partValues[1][0]! } : {};
    const gradNorm = normValues?.[0];
    const scale = gradNorm === undefined ? 1 : clipScale(gradNorm, gradClip);
    optimizer.applyGradients(params, gradList, lr, scale);
    return gradNorm === undefined ? { loss, applied: true, ...aux } : { loss, applied: true, gradNorm, ...aux };
  } finally {
    value.dispose();
    norm?.dispose();
    if (parts) tf.dispose([parts.loss, parts.aux!]);
    for (const g of gradList) g?.dispose();
  }
}

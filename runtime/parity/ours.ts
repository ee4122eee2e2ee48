// babygpt's side of the parity check: the TypeScript model's logits, loss and gradients on one batch, and
// a few steps of each optimizer from the same weights through the trainer's own step.
import type { OptimizerSpec } from "../../compiler/spec/types.generated.js";
import type { NamedTensor } from "../checkpoint/safetensors.js";
import { loadParameters } from "../checkpoint/model-state.js";
import type { LanguageModel } from "../nn/language-model.js";
import { tf } from "../nn/tf.js";
import { Prng } from "../random.js";
import { Optimizer } from "../train/optimizer.js";
import { trainStep } from "../train/step.js";
import type { OurNumbers } from "./compare.js";

/**
 * Moves every 1-D parameter (biases, norm gains, learned skip weights) off its initial value. GPT-2 style
 * initialization makes biases 0 and gains 1, where a mixed-up bias or gain would go unnoticed.
 */
export function perturbVectors(model: LanguageModel, seed: number): void {
  const rng = new Prng(seed);
  for (const [, v] of model.namedParameters()) {
    if (v.shape.length !== 1) continue;
    const noise = Float32Array.from({ length: v.size }, () => 0.1 * rng.nextNormal());
    tf.tidy(() => v.assign(tf.add(v, tf.tensor1d(noise))));
  }
}

/**
 * Forward, one backward, and `steps` steps of each optimizer from `initial` (the weights PyTorch loads).
 * Values are read with `await data()`, which the webgpu backend needs. The model should be in eval mode
 * (dropout off: random masks cannot match across frameworks).
 */
export async function computeOurs(
  model: LanguageModel,
  initial: ReadonlyMap<string, NamedTensor>,
  batch: ReadonlyMap<string, NamedTensor>,
  options: { readonly gradClip: number; readonly steps: number; readonly optimizers: readonly OptimizerSpec[] },
): Promise<OurNumbers> {
  const [x, y] = ["x", "y"].map((k) => {
    const t = batch.get(k)!;
    return tf.tensor2d(t.data, t.shape as [number, number], "int32");
  }) as [tf.Tensor2D, tf.Tensor2D];
  const params = model.namedParameters();
  const vars = params.map(([, v]) => v);
  try {
    const { logits, loss } = model.forward(x, y);
    const out = { logits: (await logits.data()) as Float32Array, loss: (await loss!.data())[0]! };
    tf.dispose([logits, loss!]);
    const { value, grads: byVar } = tf.variableGrads(() => model.forward(x, y).loss!, vars);
    value.dispose();
    const grads = new Map<string, Float32Array>();
    for (const [n, v] of params) grads.set(n, (await byVar[v.name]!.data()) as Float32Array);
    tf.dispose(Object.values(byVar));

    const stepLosses = new Map<string, Float32Array>();
    for (const config of options.optimizers) {
      loadParameters(model, initial, "the initial weights");
      const optimizer = new Optimizer(config);
      const losses = new Float32Array(options.steps + 1);
      // The trainer's own step (runtime/train/step.ts): forward, backward, clipping, the update.
      for (let step = 0; step < options.steps; step++) losses[step] = (await trainStep(model, params, x, y, optimizer, config.lr, options.gradClip)).loss;
      const last = tf.tidy(() => model.forward(x, y).loss!);
      losses[options.steps] = (await last.data())[0]!;
      last.dispose();
      optimizer.dispose();
      stepLosses.set(config.type, losses);
    }
    loadParameters(model, initial, "the initial weights");
    return { ...out, grads, stepLosses };
  } finally {
    tf.dispose([x, y]);
  }
}

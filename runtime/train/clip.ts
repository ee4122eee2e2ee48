// Gradient clipping by global norm: if the L2 norm over all gradients exceeds maxNorm, scale them all
// down by the same factor (PyTorch's clip_grad_norm_). Returns the norm before clipping.
import { tf } from "../nn/tf.js";
import { globalNorm as globalNormOp } from "../ops/global-norm.js";

/** The L2 norm over all the gradients, in float32 (runtime/ops/global-norm.ts). */
export function globalNorm(grads: readonly tf.Tensor[]): number {
  const norm = globalNormOp(grads);
  const value = norm.dataSync()[0]!;
  norm.dispose();
  return value;
}

/** The factor clipping multiplies every gradient by: maxNorm / (norm + 1e-6) above maxNorm, else 1. */
export function clipScale(norm: number, maxNorm: number): number {
  return maxNorm > 0 && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
}

export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): number {
  const value = globalNorm([...grads.values()]);
  const scale = clipScale(value, maxNorm);
  if (scale !== 1) {
    for (const [name, g] of grads) {
      grads.set(name, tf.mul(g, scale));
      g.dispose();
    }
  }
  return value;
}

// Gradient clipping by global norm: if the L2 norm over all gradients exceeds maxNorm, scale them all
// down by the same factor (PyTorch's clip_grad_norm_). Returns the norm before clipping.
import { nativeSumSquares } from "../native/train.js";
import { tf } from "../nn/tf.js";

/**
 * The L2 norm over all the gradients, in float32 as tf.sqrt(tf.addN(grads.map(g => tf.sum(tf.square(g)))))
 * computes it: on the native backend one addon call gives every tensor's sum, the rest is the same
 * float32 arithmetic in JavaScript.
 */
export function globalNorm(grads: readonly tf.Tensor[]): number {
  if (grads.length === 0) return 0;
  const sums = nativeSumSquares(grads);
  if (sums) {
    let total = 0;
    for (const s of sums) total = Math.fround(total + s); // addN: float32 sums, in order
    return Math.fround(Math.sqrt(total));
  }
  const norm = tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))));
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

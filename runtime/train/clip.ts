// Gradient clipping by global norm: if the L2 norm over all gradients exceeds maxNorm, scale them all
// down by the same factor (PyTorch's clip_grad_norm_). Returns the norm before clipping. The norm is
// read with `await data()`: a GPU backend (webgpu) has no synchronous read in Node.
import { tf } from "../nn/tf.js";
import { globalNorm as globalNormOp } from "../ops/global-norm.js";

/** The L2 norm over all the gradients, in float32 (runtime/ops/global-norm.ts). */
export async function globalNorm(grads: readonly tf.Tensor[]): Promise<number> {
  const norm = globalNormOp(grads);
  try {
    return (await norm.data())[0]!;
  } finally {
    norm.dispose();
  }
}

/** The factor clipping multiplies every gradient by: maxNorm / (norm + 1e-6) above maxNorm, else 1. */
export function clipScale(norm: number, maxNorm: number): number {
  return maxNorm > 0 && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
}

export async function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): Promise<number> {
  const value = await globalNorm([...grads.values()]);
  const scale = clipScale(value, maxNorm);
  if (scale !== 1) {
    for (const [name, g] of grads) {
      grads.set(name, tf.mul(g, scale));
      g.dispose();
    }
  }
  return value;
}

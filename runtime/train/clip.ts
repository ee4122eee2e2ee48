// Gradient clipping by global norm: if the L2 norm over all gradients exceeds maxNorm, scale them all
// down by the same factor (PyTorch's clip_grad_norm_). Returns the norm before clipping.
import { tf } from "../nn/tf.js";

export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): number {
  const norm = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))));
  const value = norm.dataSync()[0]!;
  norm.dispose();
  if (maxNorm > 0 && value > maxNorm) {
    const scale = maxNorm / (value + 1e-6);
    for (const [name, g] of grads) {
      grads.set(name, tf.mul(g, scale));
      g.dispose();
    }
  }
  return value;
}

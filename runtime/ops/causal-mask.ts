// The causal mask of self-attention: the single-head lesson (generated/04-single-head.ts) applies it in
// the open, and the attention op's reference (attention.ts) applies it to every head.
import * as tf from "@tensorflow/tfjs";

// A large negative number rather than -Infinity: softmax gives the masked entries exactly 0 either way,
// and a finite value cannot turn into NaN in any backend's kernels.
const MASKED = -1e9;
const masks = new Map<number, tf.Tensor2D>();

/** Adds -1e9 above the diagonal of the last two dims, so no position attends to a later one. */
export function causalMask(scores: tf.Tensor3D): tf.Tensor3D {
  const T = scores.shape[2];
  let mask = masks.get(T);
  if (!mask) {
    const values = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) values[i * T + j] = MASKED;
    mask = tf.keep(tf.tensor2d(values, [T, T]));
    masks.set(T, mask);
  }
  return tf.add(scores, mask);
}

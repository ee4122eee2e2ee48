// The global gradient norm: the L2 norm over all the tensors together, sqrt(Σ_t Σ_i t_i²), in float32
// as tf.sqrt(tf.addN(ts.map(t => tf.sum(tf.square(t))))) computes it. Clipping by the global norm
// (runtime/train/clip.ts) reads it once per step.
//
// Kernel BabygptGlobalNorm: inputs, one array of the n float32 tensors; no attrs; output a float32 scalar. A kernel
// must sum each tensor's squares, then add the n sums in order in float32, as addN does.
import * as tf from "@tensorflow/tfjs";
import { defineOp, runOp } from "./op.js";

export const GLOBAL_NORM = defineOp("BabygptGlobalNorm", { differentiable: false });

/** The norm as a scalar tensor; 0 for no tensors. */
export function globalNorm(ts: readonly tf.Tensor[]): tf.Scalar {
  if (ts.length === 0) return tf.scalar(0);
  return runOp<tf.Scalar>(GLOBAL_NORM, ts, {}) ?? globalNormReference(ts);
}

function globalNormReference(ts: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN(ts.map((t) => tf.sum(tf.square(t))))) as tf.Scalar);
}

// GELU with the exact erf form, x · Φ(x), as PyTorch's nn.GELU().
//
// Kernel BabygptGelu: input x; no attrs; output the shape of x. BabygptGeluGrad returns dx.
import * as tf from "@tensorflow/tfjs";
import { defineOp, runOp } from "./op.js";

export const GELU = defineOp("BabygptGelu");

export function gelu<T extends tf.Tensor>(x: T): T {
  return runOp<T>(GELU, { x }, {}) ?? geluReference(x);
}

/** 0.5 · x · (1 + erf(x / √2)) */
function geluReference<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))) as T);
}

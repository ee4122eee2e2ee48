// RMSNorm: each row of the last axis divided by its root mean square, x / sqrt(mean(x²) + eps), then
// scaled per feature by gamma when there is one. Unlike LayerNorm it subtracts no mean and adds no shift.
//
// Kernel BabygptRmsNorm: inputs x (..., C), gamma (C); attrs RmsNormAttrs; output the shape of x.
// BabygptRmsNormGrad returns dx, dgamma. Without gamma the reference runs (it is three tf ops).
import * as tf from "@tensorflow/tfjs";
import { defineOp, runOp } from "./op.js";

export const RMS_NORM = defineOp("BabygptRmsNorm");

export interface RmsNormAttrs {
  /** Added to the mean square before the square root. */
  readonly eps: number;
}

export function rmsNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor | undefined, eps: number): T {
  const attrs: RmsNormAttrs = { eps };
  return (gamma ? runOp<T>(RMS_NORM, { x, gamma }, attrs) : undefined) ?? rmsNormReference(x, gamma, eps);
}

function rmsNormReference<T extends tf.Tensor>(x: T, gamma: tf.Tensor | undefined, eps: number): T {
  return tf.tidy(() => {
    const meanSquare = tf.mean(tf.square(x), -1, true); // (..., 1): over the features
    const xhat = tf.mul(x, tf.rsqrt(tf.add(meanSquare, eps))); // (..., C)
    return (gamma ? tf.mul(xhat, gamma) : xhat) as T;
  });
}

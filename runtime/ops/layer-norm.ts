// LayerNorm: each row of the last axis shifted to mean 0 and scaled to variance 1, then scaled by gamma
// and shifted by beta, with the (biased) variance of the row, as PyTorch's nn.LayerNorm.
//
// Kernel BabygptLayerNorm: inputs x (..., C), gamma (C), beta (C); attrs LayerNormAttrs; output the
// shape of x. BabygptLayerNormGrad returns dx, dgamma, dbeta.
import * as tf from "@tensorflow/tfjs";
import { defineOp, runOp } from "./op.js";

export const LAYER_NORM = defineOp("BabygptLayerNorm");

export interface LayerNormAttrs {
  /** Added to the variance before the square root. */
  readonly eps: number;
}

/**
 * Without gamma and beta (a layer norm that learns no affine map) the normalized x is the result, computed
 * by the reference: the kernels take the affine parameters.
 */
export function layerNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor | undefined, beta: tf.Tensor | undefined, eps: number): T {
  const attrs: LayerNormAttrs = { eps };
  return (gamma && beta ? runOp<T>(LAYER_NORM, { x, gamma, beta }, attrs) : undefined) ?? layerNormReference(x, gamma, beta, eps);
}

function layerNormReference<T extends tf.Tensor>(x: T, gamma: tf.Tensor | undefined, beta: tf.Tensor | undefined, eps: number): T {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true); // (..., 1) each: statistics over the features
    const xhat = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))); // (..., C)
    return (gamma && beta ? tf.add(tf.mul(xhat, gamma), beta) : xhat) as T;
  });
}

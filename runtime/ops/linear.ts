// Linear: y = x Wᵀ + b over the last axis, W stored (out, in) as in PyTorch. What nn.Linear computes.
//
// Kernel BabygptLinear: inputs x (..., in), weight (out, in), bias (out) when the layer has one; no
// attrs; output (..., out). BabygptLinearGrad returns dx, dweight (and dbias).
import * as tf from "@tensorflow/tfjs";
import { defineOp, runOp } from "./op.js";

export const LINEAR = defineOp("BabygptLinear");

export function linear<T extends tf.Tensor>(x: T, weight: tf.Tensor, bias?: tf.Tensor): T {
  const inputs: Record<string, tf.Tensor> = bias ? { x, weight, bias } : { x, weight };
  return runOp<T>(LINEAR, inputs, {}) ?? linearReference(x, weight, bias);
}

function linearReference<T extends tf.Tensor>(x: T, weight: tf.Tensor, bias: tf.Tensor | undefined): T {
  return tf.tidy(() => {
    const [nOut, nIn] = weight.shape as [number, number];
    const flat = tf.reshape(x, [-1, nIn]) as tf.Tensor2D; // (B*T, in)
    // Product then bias as two ops, not tf.fused.matMul: tfjs 4.22's wasm kernel adds the bias wrongly
    // to every row but the first when an operand is transposed (test/parity caught it).
    const product = tf.matMul(flat, weight as tf.Tensor2D, false, true); // (B*T, out)
    const y = bias ? tf.add(product, bias) : product;
    return tf.reshape(y, [...x.shape.slice(0, -1), nOut]) as T; // (B, T, out)
  });
}

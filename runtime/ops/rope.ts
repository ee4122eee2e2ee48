// Rotary position embedding (RoFormer; the GPT-NeoX layout Llama and litgpt use): the leading `dims`
// features of each query or key head, split into two halves (x1, x2), are rotated pair by pair by an angle
// that grows with the position:
//   x1' = x1 cos(pos·f) - x2 sin(pos·f),   x2' = x2 cos(pos·f) + x1 sin(pos·f),   f_i = base^(-2i/dims)
// and the remaining features pass through. A query at position p and a key at position j then score by
// their content and p - j alone, which is why no position_embedding is needed.
//
// Kernel BabygptRope: inputs x (B, H, T, hs), cos (P, dims/2), sin (P, dims/2); attrs RopeAttrs; output the
// shape of x. BabygptRopeGrad returns dx.
import * as tf from "@tensorflow/tfjs";
import { defineOp, runOp } from "./op.js";

export const ROPE = defineOp("BabygptRope");

export interface RopeAttrs {
  /** Position of x's first row (the positions a KV cache already holds); rows offset … offset+T-1 of the tables. */
  readonly offset: number;
}

/** cos and sin of pos · f_i for every position 0 … positions-1 and i < dims/2: (positions, dims/2) each. */
export function rotaryTables(positions: number, dims: number, base: number): [tf.Tensor2D, tf.Tensor2D] {
  const half = dims / 2;
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let pos = 0; pos < positions; pos++) {
    for (let i = 0; i < half; i++) {
      // In float64, rounded once to float32, as the PyTorch target computes it.
      const angle = pos * Math.pow(base, -(2 * i) / dims);
      cos[pos * half + i] = Math.cos(angle);
      sin[pos * half + i] = Math.sin(angle);
    }
  }
  return [tf.tensor2d(cos, [positions, half]), tf.tensor2d(sin, [positions, half])];
}

/** x (B, H, T, hs) with its leading 2·cos.shape[1] features rotated by positions offset … offset+T-1. */
export function rope(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D, offset = 0): tf.Tensor4D {
  const attrs: RopeAttrs = { offset };
  return runOp<tf.Tensor4D>(ROPE, { x, cos, sin }, attrs) ?? ropeReference(x, cos, sin, offset);
}

function ropeReference(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D, offset: number): tf.Tensor4D {
  return tf.tidy(() => {
    const T = x.shape[2];
    const hs = x.shape[3];
    const half = cos.shape[1];
    const c = tf.slice(cos, [offset, 0], [T, half]); // (T, dims/2)
    const s = tf.slice(sin, [offset, 0], [T, half]); // (T, dims/2)
    const x1 = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, half]); // (B, H, T, dims/2)
    const x2 = tf.slice(x, [0, 0, 0, half], [-1, -1, -1, half]); // (B, H, T, dims/2)
    const rotated = [tf.sub(tf.mul(x1, c), tf.mul(x2, s)), tf.add(tf.mul(x2, c), tf.mul(x1, s))];
    if (2 * half < hs) rotated.push(tf.slice(x, [0, 0, 0, 2 * half], [-1, -1, -1, hs - 2 * half])); // passes through
    return tf.concat(rotated, -1) as tf.Tensor4D; // (B, H, T, hs)
  });
}

// Dropout: each entry zeroed with probability `rate`, the rest scaled by 1/(1-rate), the keep flags drawn
// from `seed` exactly as tf.dropout draws them (so every backend drops the same entries).
//
// Kernel BabygptDropout: input x; attrs DropoutAttrs; output the shape of x. BabygptDropoutGrad returns dx.
import * as tf from "@tensorflow/tfjs";
import { defineOp, runOp } from "./op.js";

export const DROPOUT = defineOp("BabygptDropout");

export interface DropoutAttrs {
  /** The probability of zeroing an entry, in [0, 1). */
  readonly rate: number;
  /** The seed of tf.randomUniform's generator (alea) that draws the keep flags. */
  readonly seed: number;
}

export function dropout<T extends tf.Tensor>(x: T, rate: number, seed: number): T {
  const attrs: DropoutAttrs = { rate, seed };
  return runOp<T>(DROPOUT, { x }, attrs) ?? (tf.dropout(x, rate, undefined, seed) as T);
}

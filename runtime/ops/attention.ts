// Multi-head causal self-attention, every head of a layer at once. For each head h:
//   q, k, v = x Wqᵀ + bq, x Wkᵀ + bk, x Wvᵀ + bv            (B, T, hs) each
//   wei = softmax(shape(q kᵀ · scale))                         (B, T, T): the causal mask, and the
//                                                               window, ALiBi bias and cap of
//                                                               score-shaping.ts where asked for
//   wei = dropout(wei, rate, seeds[h])                          in training, when rate > 0
//   out_h = wei v                                               (B, T, hs)
// and the heads' outputs side by side: (B, T, heads · hs), as tf.concat(heads.map(...), -1) gives.
//
// Kernel BabygptMultiHeadAttention: inputs x (B, T, C), w0 … w(3H-1) (hs, C) in the order q0, k0, v0,
// q1, …, and b0 … b(3H-1) (hs) in the same order when the projections have biases; attrs
// MultiHeadAttentionAttrs; output (B, T, H · hs). BabygptMultiHeadAttentionGrad returns dx, the dw's,
// then the db's. A kernel can project x for every head with one matrix product (the w's side by side),
// which is what makes it worth having.
import * as tf from "@tensorflow/tfjs";
import { dropout } from "./dropout.js";
import { linear } from "./linear.js";
import { defineOp, runOp } from "./op.js";
import { PLAIN_SCORES, shapeScores, type ScoreShaping } from "./score-shaping.js";

export const MULTI_HEAD_ATTENTION = defineOp("BabygptMultiHeadAttention", { extensions: ["window", "alibiSlopes", "softcap"] });

/** With score shaping (score-shaping.ts): a window, one ALiBi slope per head, a cap. */
export interface MultiHeadAttentionAttrs extends ScoreShaping {
  readonly heads: number;
  readonly headSize: number;
  /** Multiplies q kᵀ: headSize ** -0.5 in GPTs, 1 for unscaled attention. */
  readonly scale: number;
  /** Dropout on the attention weights; 0 for none (and always 0 outside training). */
  readonly dropoutRate: number;
  /** With dropout, one seed per head, drawn as dropout(wei, rate, seed) would take it. */
  readonly seeds: readonly number[];
}

/** One projection: a (hs, C) weight and an optional (hs) bias, as a Linear holds them. */
export interface Projection {
  readonly weight: tf.Tensor;
  readonly bias?: tf.Tensor | undefined;
}

/** The three projections of one attention head. */
export interface HeadWeights {
  readonly query: Projection;
  readonly key: Projection;
  readonly value: Projection;
}

/**
 * x (B, T, C) → every head's causal attention output, side by side: (B, T, heads · hs). `seeds` (one
 * per head) only with dropoutRate > 0. The kernel runs when the heads share a size and all or none of
 * their projections have biases; otherwise, and on backends without a kernel, the reference.
 */
export function multiHeadCausalAttention(
  x: tf.Tensor3D,
  heads: readonly HeadWeights[],
  scale: number,
  dropoutRate = 0,
  seeds: readonly number[] = [],
  shaping: ScoreShaping = PLAIN_SCORES,
): tf.Tensor3D {
  if (dropoutRate > 0 && seeds.length !== heads.length) throw new Error("multiHeadCausalAttention: one dropout seed per head");
  if (shaping.alibiSlopes.length > 0 && shaping.alibiSlopes.length !== heads.length) throw new Error("multiHeadCausalAttention: one ALiBi slope per head");
  const inputs = kernelInputs(x, heads);
  if (inputs) {
    const headSize = heads[0]!.query.weight.shape[0]!;
    const attrs: MultiHeadAttentionAttrs = { heads: heads.length, headSize, scale, dropoutRate, seeds: dropoutRate > 0 ? seeds.slice() : [], ...shaping };
    const out = runOp<tf.Tensor3D>(MULTI_HEAD_ATTENTION, inputs, attrs);
    if (out) return out;
  }
  return attentionReference(x, heads, scale, dropoutRate, seeds, shaping);
}

/**
 * The kernel's inputs (x, the w's, the b's), or undefined when the heads do not fit them: one head size,
 * weights (hs, C), biases on all projections or on none.
 */
function kernelInputs(x: tf.Tensor3D, heads: readonly HeadWeights[]): Record<string, tf.Tensor> | undefined {
  if (heads.length === 0) return undefined;
  const first = heads[0]!.query;
  const D = first.weight.shape[0];
  const withBias = first.bias !== undefined;
  const C = x.shape[2];
  const inputs: Record<string, tf.Tensor> = { x };
  const biases: tf.Tensor[] = [];
  let i = 0;
  for (const h of heads) {
    for (const p of [h.query, h.key, h.value]) {
      const w = p.weight;
      if (w.rank !== 2 || w.shape[0] !== D || w.shape[1] !== C || (p.bias !== undefined) !== withBias) return undefined;
      inputs[`w${i++}`] = w;
      if (p.bias) biases.push(p.bias);
    }
  }
  for (let j = 0; j < biases.length; j++) inputs[`b${j}`] = biases[j]!;
  return inputs;
}

function attentionReference(x: tf.Tensor3D, heads: readonly HeadWeights[], scale: number, dropoutRate: number, seeds: readonly number[], shaping: ScoreShaping): tf.Tensor3D {
  return tf.tidy(() => {
    const outs = heads.map((h, i) => {
      const q = linear(x, h.query.weight, h.query.bias); // (B, T, hs)
      const k = linear(x, h.key.weight, h.key.bias); // (B, T, hs)
      const v = linear(x, h.value.weight, h.value.bias); // (B, T, hs)
      let wei: tf.Tensor3D = tf.mul(tf.matMul(q, k, false, true), scale); // (B, T, T)
      wei = tf.softmax(shapeScores(wei, shaping, i)); // (B, T, T): each row sums to 1 over the positions it sees
      if (dropoutRate > 0) wei = dropout(wei, dropoutRate, seeds[i]!);
      return tf.matMul(wei, v); // (B, T, hs)
    });
    return tf.concat(outs, -1) as tf.Tensor3D; // (B, T, heads * hs)
  });
}

// Causal attention of heads already projected: queries (B, H, Tq, hs), keys and values (B, KV, Tk, hs),
// where each of the KV key/value heads serves H / KV query heads (grouped-query attention; KV = H is
// plain multi-head attention, KV = 1 multi-query). Query head h reads kv head floor(h / (H / KV)), as
// PyTorch's repeat_interleave gives. For each head:
//   wei = softmax(shape(q kᵀ · scale))          (B, Tq, Tk): the causal mask, and score-shaping.ts's
//                                                window, ALiBi bias and cap where asked for
//   wei = dropout(wei, rate, seed)               in training, when rate > 0
//   out = wei v                                  (B, Tq, hs)
// With Tk > Tq (a KV cache holds the earlier positions), the queries are the last Tq positions.
//
// Kernel BabygptCausalAttention: inputs q, k, v; attrs CausalAttentionAttrs; output (B, H, Tq, hs).
// BabygptCausalAttentionGrad returns dq, dk, dv.
import * as tf from "@tensorflow/tfjs";
import { dropout } from "./dropout.js";
import { defineOp, runOp } from "./op.js";
import { PLAIN_SCORES, shapeScores, type ScoreShaping } from "./score-shaping.js";

export const CAUSAL_ATTENTION = defineOp("BabygptCausalAttention", { extensions: ["window", "alibiSlopes", "softcap"] });

export interface CausalAttentionAttrs extends ScoreShaping {
  /** Multiplies q kᵀ: headSize ** -0.5 in GPTs, 1 for unscaled attention. */
  readonly scale: number;
  /** Dropout on the attention weights; 0 for none (and always 0 outside training). */
  readonly dropoutRate: number;
  /** With dropout, the seed of its mask, as dropout(wei, rate, seed) takes it. */
  readonly seed: number;
}

export function causalAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, scale: number, dropoutRate = 0, seed = 0, shaping: ScoreShaping = PLAIN_SCORES): tf.Tensor4D {
  if (q.shape[1] % k.shape[1] !== 0) throw new Error(`causalAttention: ${k.shape[1]} key/value heads do not divide ${q.shape[1]} query heads`);
  if (shaping.alibiSlopes.length > 0 && shaping.alibiSlopes.length !== q.shape[1]) throw new Error(`causalAttention: ${shaping.alibiSlopes.length} ALiBi slopes for ${q.shape[1]} heads`);
  const attrs: CausalAttentionAttrs = { scale, dropoutRate, seed, window: shaping.window, alibiSlopes: shaping.alibiSlopes, softcap: shaping.softcap };
  return runOp<tf.Tensor4D>(CAUSAL_ATTENTION, { q, k, v }, attrs) ?? causalAttentionReference(q, k, v, attrs);
}

/** Each kv head repeated for the query heads it serves: (B, KV, T, hs) → (B, H, T, hs). */
function repeatKv(t: tf.Tensor4D, heads: number): tf.Tensor4D {
  const KV = t.shape[1];
  if (KV === heads) return t;
  const group = heads / KV;
  const source = tf.tensor1d(Array.from({ length: heads }, (_, h) => Math.floor(h / group)), "int32"); // (H,)
  return tf.gather(t, source, 1); // (B, H, T, hs)
}

function causalAttentionReference(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, attrs: CausalAttentionAttrs): tf.Tensor4D {
  return tf.tidy(() => {
    const H = q.shape[1];
    const keys = repeatKv(k, H); // (B, H, Tk, hs)
    const values = repeatKv(v, H); // (B, H, Tk, hs)
    let wei = tf.mul(tf.matMul(q, keys, false, true), attrs.scale) as tf.Tensor4D; // (B, H, Tq, Tk)
    wei = tf.softmax(shapeScores(wei, attrs)); // (B, H, Tq, Tk): each row sums to 1 over the positions it sees
    if (attrs.dropoutRate > 0) wei = dropout(wei, attrs.dropoutRate, attrs.seed);
    return tf.matMul(wei, values) as tf.Tensor4D; // (B, H, Tq, hs)
  });
}

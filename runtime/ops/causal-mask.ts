// The causal mask of self-attention: the single-head lesson (generated/04-single-head.ts) applies it in
// the open, and the attention ops' references (attention.ts, causal-attention.ts) apply it to every head.
import * as tf from "@tensorflow/tfjs";
import { noteMaskedScores } from "./attention-weights.js";

// A large negative number rather than -Infinity: softmax gives the masked entries exactly 0 either way,
// and a finite value cannot turn into NaN in any backend's kernels.
const MASKED = -1e9;
const masks = new Map<string, tf.Tensor2D>();

/**
 * Adds -1e9 where a query would look at a later key, over the last two dims (queries, keys). With as many
 * keys as queries that is above the diagonal; with more keys (a KV cache holds the earlier positions),
 * the Tq queries are the last Tq positions, and query i sees keys 0 … i + (Tk - Tq). With a window W it
 * also sees none more than W − 1 positions back (sliding-window attention).
 */
export function causalMask<T extends tf.Tensor>(scores: T, window = 0): T {
  const Tq = scores.shape[scores.rank - 2]!;
  const Tk = scores.shape[scores.rank - 1]!;
  const windowed = window > 0 && Tk > window;
  if (Tq === 1 && !windowed) return scores; // the last position sees every key: nothing to mask
  const key = `${Tq}x${Tk}${windowed ? `w${window}` : ""}`;
  let mask = masks.get(key);
  if (!mask) {
    const values = new Float32Array(Tq * Tk);
    for (let r = 0; r < Tq; r++) {
      const i = r + (Tk - Tq); // the query's position among the keys
      for (let j = 0; j < Tk; j++) if (j > i || (windowed && j <= i - window)) values[r * Tk + j] = MASKED;
    }
    mask = tf.keep(tf.tensor2d(values, [Tq, Tk]));
    masks.set(key, mask);
  }
  const masked: T = tf.add(scores, mask);
  noteMaskedScores(masked); // for attention maps (attention-weights.ts); nothing outside a recording
  return masked;
}

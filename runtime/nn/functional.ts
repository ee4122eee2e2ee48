// Stateless pieces the generated code calls. The fused ones (gelu, gatedActivation, crossEntropy, layerNorm,
// rmsNorm, rope, causalAttention, multiHeadCausalAttention, expertMix) are ops: each has its one home, with its reference
// math in tf ops, in runtime/ops/, and runs as one kernel on backends that register one (runtime/native).
// What this file adds is what a model needs around them: attention's dropout, whose mask seeds come from
// the model's own seeds through its Dropout module, and the KV cache of sampling.
import { multiHeadCausalAttention as attentionOp } from "../ops/attention.js";
import { causalAttention as causalAttentionOp } from "../ops/causal-attention.js";
import { linear as linearOp } from "../ops/linear.js";
import { alibiSlopes, PLAIN_SCORES, type ScoreShaping } from "../ops/score-shaping.js";
import type { Dropout } from "./dropout.js";
import type { KvCache } from "./kv-cache.js";
import type { Linear } from "./linear.js";
import { tf } from "./tf.js";

export { causalMask } from "../ops/causal-mask.js";
export { crossEntropy } from "../ops/cross-entropy.js";
export { expertMix } from "../ops/expert-mix.js";
export { gatedActivation } from "../ops/gated-activation.js";
export { gelu } from "../ops/gelu.js";
export { layerNorm } from "../ops/layer-norm.js";
export { rmsNorm } from "../ops/rms-norm.js";
export { rope, rotaryTables } from "../ops/rope.js";
export { alibiSlopes } from "../ops/score-shaping.js";
export { loadBalancingLoss, topKRouting } from "../ops/routing.js";
export { relu2, silu } from "../ops/activations.js";

/** The three projections of one attention head, as the generated Head classes hold them. */
export interface AttentionHead {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
}

/** What attention does to its scores besides the causal mask (runtime/ops/score-shaping.ts). */
export interface AttentionShaping {
  /** Sliding window: each position sees itself and the window − 1 before it. */
  readonly window?: number;
  /** ALiBi's linear bias by distance, one slope per head. */
  readonly alibi?: boolean;
  /** Scores capped smoothly: s → softcap·tanh(s / softcap). */
  readonly softcap?: number;
}

export interface AttentionOptions extends AttentionShaping {
  /** Dropout on the attention weights (active in training only). */
  readonly dropout?: Dropout;
  /** While sampling: the keys and values of the positions before x's. */
  readonly cache?: KvCache | undefined;
}

/** The ops' form of a layer's shaping, for `heads` heads. */
function scoreShaping(s: AttentionShaping, heads: number): ScoreShaping {
  if (!s.window && !s.alibi && !s.softcap) return PLAIN_SCORES;
  return { window: s.window ?? 0, alibiSlopes: s.alibi ? alibiSlopes(heads) : [], softcap: s.softcap ?? 0 };
}

/**
 * Every head of a multi-head causal self-attention on x (B, T, C), their outputs side by side:
 * (B, T, heads * headSize). The math is runtime/ops/attention.ts's; with dropout in training, each head's
 * mask seed is the dropout module's next, in head order. With a cache, x holds the positions after the
 * cached ones, and every head attends to those too (runtime/ops/causal-attention.ts).
 */
export function multiHeadCausalAttention(x: tf.Tensor3D, heads: readonly AttentionHead[], scale: number, options: AttentionOptions = {}): tf.Tensor3D {
  const { dropout, cache } = options;
  const shaping = scoreShaping(options, heads.length);
  if (cache) return cachedAttention(x, heads, scale, cache, shaping);
  if (!dropout?.active) return attentionOp(x, heads, scale, 0, [], shaping);
  const seeds = heads.map(() => dropout.nextSeed());
  return attentionOp(x, heads, scale, dropout.p, seeds, shaping);
}

/** The heads' attention over the cached positions and x's: the same numbers, computed for x's rows alone. */
function cachedAttention(x: tf.Tensor3D, heads: readonly AttentionHead[], scale: number, cache: KvCache, shaping: ScoreShaping): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, T] = x.shape;
    const nh = heads.length;
    const hs = heads[0]!.query.weight.shape[0]!;
    // Every head's q, k and v from one product with their weights side by side, as the op's kernel does.
    const parts = (["query", "key", "value"] as const).flatMap((p) => heads.map((h) => h[p]));
    const withBias = parts.every((l) => l.bias !== undefined);
    const qkv = linearOp(x, tf.concat(parts.map((l) => l.weight)), withBias ? tf.concat(parts.map((l) => l.bias!)) : undefined); // (B, T, 3*nh*hs)
    const [q, k, v] = tf.split(qkv, 3, -1).map((t) => tf.transpose(tf.reshape(t, [B, T, nh, hs]), [0, 2, 1, 3]) as tf.Tensor4D); // (B, nh, T, hs) each
    const all = cache.append(heads, k!, v!, shaping.window); // (B, nh, past+T, hs): the window's, with one
    const y = causalAttentionOp(q!, all.k, all.v, scale, 0, 0, shaping); // (B, nh, T, hs)
    return tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B, T, -1]) as tf.Tensor3D; // (B, T, nh*hs)
  });
}

/**
 * Causal attention of projected heads: q (B, nh, T, hs) over k, v (B, nkv, Tk, hs), each kv head serving
 * nh / nkv query heads (runtime/ops/causal-attention.ts); with dropout in training, its mask's seed is the
 * dropout module's next. The options add a sliding window, ALiBi's bias or a score cap.
 */
export function causalAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, scale: number, options: Omit<AttentionOptions, "cache"> = {}): tf.Tensor4D {
  const s = scoreShaping(options, q.shape[1]);
  const { dropout } = options;
  if (!dropout?.active) return causalAttentionOp(q, k, v, scale, 0, 0, s);
  return causalAttentionOp(q, k, v, scale, dropout.p, dropout.nextSeed(), s);
}

/** x capped smoothly: cap·tanh(x / cap) (Gemma 2's logit cap). */
export function softcap<T extends tf.Tensor>(x: T, cap: number): T {
  return tf.tidy(() => tf.mul(tf.tanh(tf.div(x, cap)), cap));
}

/** The Transformer paper's fixed position code: sin and cos of the position at geometric frequencies. */
export function sinusoidalTable(positions: number, width: number): tf.Tensor2D {
  const values = new Float32Array(positions * width);
  for (let pos = 0; pos < positions; pos++) {
    for (let i = 0; i < width; i++) {
      const freq = Math.pow(10000, -(2 * Math.floor(i / 2)) / width);
      values[pos * width + i] = i % 2 === 0 ? Math.sin(pos * freq) : Math.cos(pos * freq);
    }
  }
  return tf.tensor2d(values, [positions, width]);
}

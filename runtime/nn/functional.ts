// Stateless pieces the generated code calls: dropout, the causal mask, GELU, sinusoidal positions, the
// cross-entropy loss, layer normalization and causal attention (one head, or all heads of a layer).
//
// On the native backend (runtime/native) gelu, crossEntropy, layerNorm, causalAttention,
// multiHeadCausalAttention and dropout run as one fused kernel each, with a fused gradient; on every
// other backend they are the plain tfjs ops below. Both compute the same function to float32 rounding
// (dropout: the same masks from the same seeds).
import {
  canFuse,
  canFuseHeads,
  fusedCausalAttention,
  fusedCrossEntropy,
  fusedDropout,
  fusedGelu,
  fusedLayerNorm,
  fusedMultiHeadAttention,
} from "../native/fused.js";
import type { Linear } from "./linear.js";
import { Prng, type PrngState } from "../random.js";
import { tf } from "./tf.js";

/** Dropout masks are drawn from seeds this PRNG hands out; the trainer saves and restores its state. */
const dropoutRng = new Prng(0);

export function seedDropout(seed: number): void {
  dropoutRng.state = new Prng(seed).state;
}

export function dropoutState(): PrngState {
  return dropoutRng.state;
}

export function restoreDropoutState(state: PrngState): void {
  dropoutRng.state = state;
}

/**
 * Zeroes each entry with probability `rate` and scales the rest by 1/(1-rate), in training only. On the
 * native backend one kernel computes exactly what tf.dropout computes with the same seed.
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, training: boolean): T {
  if (!training || rate === 0) return x;
  const seed = dropoutRng.nextUint32();
  if (canFuse(x) && x.dtype === "float32") return fusedDropout(x, rate, seed);
  return tf.dropout(x, rate, undefined, seed) as T;
}

// A large negative number rather than -Infinity: softmax gives the masked entries exactly 0 either way,
// and a finite value cannot turn into NaN in any backend's kernels.
const MASKED = -1e9;
const masks = new Map<number, tf.Tensor2D>();

/** Adds -1e9 above the diagonal of the last two dims, so no position attends to a later one. */
export function causalMask(scores: tf.Tensor3D): tf.Tensor3D {
  const T = scores.shape[2];
  let mask = masks.get(T);
  if (!mask) {
    const values = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) values[i * T + j] = MASKED;
    mask = tf.keep(tf.tensor2d(values, [T, T]));
    masks.set(T, mask);
  }
  return tf.add(scores, mask);
}

/** GELU with the exact erf form, as PyTorch's nn.GELU(). */
export function gelu<T extends tf.Tensor>(x: T): T {
  if (canFuse(x)) return fusedGelu(x);
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))))) as T;
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

/** Mean negative log-likelihood of the targets: logits (B, T, V), targets (B, T) int32 → scalar. */
export function crossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Scalar {
  if (canFuse(logits) && targets.dtype === "int32") return fusedCrossEntropy(logits, targets);
  return tf.tidy(() => {
    const [B, T, V] = logits.shape;
    const logProbs = tf.logSoftmax(tf.reshape(logits, [B * T, V])); // (B*T, V)
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(tf.reshape(targets, [B * T]), V)), -1); // (B*T)
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}

/**
 * Layer normalization over the last axis: (x - mean) / sqrt(variance + eps) * gamma + beta, with the
 * (biased) variance of each row, as PyTorch's nn.LayerNorm. x (..., C), gamma and beta (C).
 */
export function layerNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor, beta: tf.Tensor, eps: number): T {
  if (canFuse(x, gamma, beta)) return fusedLayerNorm(x, gamma, beta, eps);
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true); // (..., 1) each: statistics over the features
    const xhat = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))); // (..., C)
    return tf.add(tf.mul(xhat, gamma), beta);
  }) as T;
}

/**
 * One head of causal self-attention from its projections: softmax(mask(q kᵀ · scale)) v, where the
 * mask lets each position attend to itself and the positions before it. q, k, v (B, T, hs) → (B, T, hs).
 * With dropoutRate > 0 in training, dropout is applied to the attention weights (then the plain tfjs
 * ops run on every backend, since the fused kernel has no dropout).
 */
export function causalAttention(
  q: tf.Tensor3D,
  k: tf.Tensor3D,
  v: tf.Tensor3D,
  scale: number,
  dropoutRate = 0,
  training = false,
): tf.Tensor3D {
  const dropping = training && dropoutRate > 0;
  if (!dropping && canFuse(q, k, v)) return fusedCausalAttention(q, k, v, scale);
  return tf.tidy(() => {
    let wei: tf.Tensor3D = tf.mul(tf.matMul(q, k, false, true), scale); // (B, T, T)
    wei = causalMask(wei);
    wei = tf.softmax(wei);
    if (dropping) wei = dropout(wei, dropoutRate, training);
    return tf.matMul(wei, v); // (B, T, hs)
  });
}

/** The three projections of one attention head, as the generated Head classes hold them. */
export interface AttentionHead {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
}

/**
 * Every head of a multi-head causal self-attention on x (B, T, C): for each head
 * causalAttention(query(x), key(x), value(x), scale), and the heads' outputs concatenated on the last
 * axis: (B, T, heads * headSize), as tf.concat(heads.map(h => h.forward(x)), -1) gives. One scale for
 * all heads (headSize ** -0.5 when they share a size). On the native backend it is one kernel, whose
 * single matrix product projects x for all heads at once (when the heads share a size and all or none
 * of their projections have biases; otherwise the plain ops run). With dropout in training, the kernel
 * draws each head's mask from the seed that head's dropout() would take, in the same order, and gives
 * the same values.
 */
export function multiHeadCausalAttention(
  x: tf.Tensor3D,
  heads: readonly AttentionHead[],
  scale: number,
  dropoutRate = 0,
  training = false,
): tf.Tensor3D {
  const dropping = training && dropoutRate > 0;
  if (canFuseHeads(x, heads)) {
    if (!dropping) return fusedMultiHeadAttention(x, heads, scale);
    const seeds = heads.map(() => dropoutRng.nextUint32());
    return fusedMultiHeadAttention(x, heads, scale, dropoutRate, seeds);
  }
  return tf.tidy(() =>
    tf.concat(
      heads.map((h) => causalAttention(h.query.forward(x), h.key.forward(x), h.value.forward(x), scale, dropoutRate, training)),
      -1,
    ),
  );
}

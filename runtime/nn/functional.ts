// Stateless pieces the generated code calls. The fused ones (gelu, crossEntropy, layerNorm, dropout,
// multiHeadCausalAttention) are ops: each has its one home, with its reference math in tf ops, in
// runtime/ops/, and runs as one kernel on backends that register one (runtime/native). What this file
// adds is what a model needs around them: dropout's seeds, drawn in order from one PRNG that the trainer
// saves and restores, and the training switch.
import { Prng, type PrngState } from "../random.js";
import { dropout as dropoutOp } from "../ops/dropout.js";
import { multiHeadCausalAttention as attentionOp } from "../ops/attention.js";
import type { Linear } from "./linear.js";
import { tf } from "./tf.js";

export { causalMask } from "../ops/causal-mask.js";
export { crossEntropy } from "../ops/cross-entropy.js";
export { gelu } from "../ops/gelu.js";
export { layerNorm } from "../ops/layer-norm.js";
export { rmsNorm } from "../ops/rms-norm.js";

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
 * Zeroes each entry with probability `rate` and scales the rest by 1/(1-rate), in training only; the
 * mask comes from the next seed of the dropout PRNG (runtime/ops/dropout.ts).
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, training: boolean): T {
  if (!training || rate === 0) return x;
  return dropoutOp(x, rate, dropoutRng.nextUint32());
}

/** The three projections of one attention head, as the generated Head classes hold them. */
export interface AttentionHead {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
}

/**
 * Every head of a multi-head causal self-attention on x (B, T, C), their outputs side by side:
 * (B, T, heads * headSize). The math is runtime/ops/attention.ts's; with dropout in training, each head's
 * mask comes from the next seed of the dropout PRNG, in head order.
 */
export function multiHeadCausalAttention(x: tf.Tensor3D, heads: readonly AttentionHead[], scale: number, dropoutRate = 0, training = false): tf.Tensor3D {
  if (!training || dropoutRate === 0) return attentionOp(x, heads, scale);
  const seeds = heads.map(() => dropoutRng.nextUint32());
  return attentionOp(x, heads, scale, dropoutRate, seeds);
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

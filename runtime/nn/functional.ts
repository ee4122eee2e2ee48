// Stateless pieces the generated code calls: dropout, the causal mask, GELU, sinusoidal positions and the
// cross-entropy loss.
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

/** Zeroes each entry with probability `rate` and scales the rest by 1/(1-rate), in training only. */
export function dropout<T extends tf.Tensor>(x: T, rate: number, training: boolean): T {
  if (!training || rate === 0) return x;
  return tf.dropout(x, rate, undefined, dropoutRng.nextUint32()) as T;
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
  return tf.tidy(() => {
    const [B, T, V] = logits.shape;
    const logProbs = tf.logSoftmax(tf.reshape(logits, [B * T, V])); // (B*T, V)
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(tf.reshape(targets, [B * T]), V)), -1); // (B*T)
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}

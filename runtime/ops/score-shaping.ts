// What attention may do to its scores besides the causal mask, in the order it does it:
//   s = cap·tanh(s / cap)            softcap (Gemma 2): no score can run away and saturate softmax
//   s = s − m_h·(i − j)              ALiBi (Press et al.): a linear penalty by distance, slope m_h per head
//   s = −∞ where j > i or j ≤ i − W  the causal mask, and a sliding window of W positions (Mistral)
// for query position i and key position j (the queries are the last Tq of the Tk positions, so with a KV
// cache query row r sits at i = r + Tk − Tq). The attention ops' references apply it to their scores; a
// kernel that does not implement it declines (op.ts: an op's extensions), and the reference runs.
import * as tf from "@tensorflow/tfjs";
import { causalMask } from "./causal-mask.js";

export interface ScoreShaping {
  /** Each query sees itself and the window − 1 positions before it; 0: every position before it. */
  readonly window: number;
  /** One ALiBi slope per head, in head order; empty: no bias. */
  readonly alibiSlopes: readonly number[];
  /** The cap of s → cap·tanh(s / cap); 0: none. */
  readonly softcap: number;
}

export const PLAIN_SCORES: ScoreShaping = { window: 0, alibiSlopes: [], softcap: 0 };

/**
 * ALiBi's slopes for n heads, as the paper's code computes them: for n a power of two, 2^(−8h/n) for
 * h = 1 … n; otherwise the slopes of the power of two p below n, then every other slope of 2p's list.
 */
export function alibiSlopes(n: number): number[] {
  const powerOf2 = (m: number): number[] => Array.from({ length: m }, (_, h) => 2 ** ((-8 * (h + 1)) / m));
  if (Number.isInteger(Math.log2(n))) return powerOf2(n);
  const p = 2 ** Math.floor(Math.log2(n));
  return [...powerOf2(p), ...alibiSlopes(2 * p).filter((_, i) => i % 2 === 0).slice(0, n - p)];
}

const biases = new Map<string, tf.Tensor3D>();

/** −m_h·(i − j) for every head h, query row and key: (H, Tq, Tk), kept for the sizes it was made for. */
function alibiBias(slopes: readonly number[], Tq: number, Tk: number): tf.Tensor3D {
  const key = `${slopes.join(",")}|${Tq}x${Tk}`;
  let bias = biases.get(key);
  if (!bias) {
    const H = slopes.length;
    const values = new Float32Array(H * Tq * Tk);
    for (let h = 0; h < H; h++) {
      for (let r = 0; r < Tq; r++) {
        const i = r + Tk - Tq;
        for (let j = 0; j < Tk; j++) values[(h * Tq + r) * Tk + j] = -slopes[h]! * (i - j);
      }
    }
    bias = tf.keep(tf.tensor3d(values, [H, Tq, Tk]));
    biases.set(key, bias);
  }
  return bias;
}

/**
 * Scores (…, H, Tq, Tk) — or one head's (…, Tq, Tk) when `head` says which — capped, biased and masked.
 * With nothing to do beyond the causal mask, exactly causalMask(scores).
 */
export function shapeScores<T extends tf.Tensor>(scores: T, shaping: ScoreShaping, head?: number): T {
  return tf.tidy(() => {
    let s: tf.Tensor = scores;
    const Tq = s.shape[s.rank - 2]!;
    const Tk = s.shape[s.rank - 1]!;
    if (shaping.softcap > 0) s = tf.mul(tf.tanh(tf.div(s, shaping.softcap)), shaping.softcap);
    if (shaping.alibiSlopes.length > 0) {
      const slopes = head === undefined ? shaping.alibiSlopes : [shaping.alibiSlopes[head]!];
      const bias = alibiBias(slopes, Tq, Tk);
      s = tf.add(s, head === undefined ? bias : tf.reshape(bias, [Tq, Tk]));
    }
    return causalMask(s, shaping.window) as T;
  });
}

/** Whether the shaping does anything beyond the causal mask. */
export function shapes(shaping: ScoreShaping): boolean {
  return shaping.window > 0 || shaping.alibiSlopes.length > 0 || shaping.softcap > 0;
}

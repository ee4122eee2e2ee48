// A mixture of experts' routing (Mixtral) and the Switch Transformer's load-balancing loss, in plain tf
// ops: E numbers per token, small next to the experts themselves (expert-mix.ts), so no backend has
// kernels for them.
//
// While recordRouting runs f, every routing records the router's scores and its choice, for the parity
// tests, which compare the choices with PyTorch's before any value and leave out tokens whose choice sits
// within a hair of a tie.
import * as tf from "@tensorflow/tfjs";

/**
 * The router's scores (B, T, E) of every token → [probs, weights, chosen]: the softmax over the experts,
 * probs (B, T, E); the k experts of highest score, chosen (B, T, k) int32, best first, a tie going to
 * the lower index; and their probabilities renormalized to sum to 1, weights (B, T, k).
 *
 * The choice passes no gradient: the router learns through the weights (and the load-balancing loss's
 * probabilities) alone, as in Mixtral.
 */
export function topKRouting(scores: tf.Tensor3D, k: number): [probs: tf.Tensor3D, weights: tf.Tensor3D, chosen: tf.Tensor3D] {
  const E = scores.shape[2];
  if (!Number.isInteger(k) || k < 1 || k > E) throw new RangeError(`topKRouting: k must be an integer in [1, ${E}], got ${k}`);
  const out = tf.tidy(() => {
    const probs = tf.softmax(scores); // (B, T, E)
    const chosen = chooseTopK(scores, k); // (B, T, k)
    const top = tf.sum(tf.mul(tf.oneHot(chosen, E), tf.expandDims(probs, 2)), -1) as tf.Tensor3D; // (B, T, k): the chosen experts' probabilities
    const weights = tf.div(top, tf.sum(top, -1, true)) as tf.Tensor3D; // (B, T, k), summing to 1
    return [probs, weights, chosen] as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
  });
  if (recorded) recorded.push({ scores: tf.keep(tf.clone(scores)), chosen: tf.keep(tf.clone(out[2])) });
  return out;
}

/**
 * The k experts of highest score for every token, best first: k argMaxes, each expert taken masked out of
 * the next (argMax takes the first of equal maxima, the lower index). Its gradient is zeros, given at
 * once: traced through the argMaxes and masks, it would cost a chain of kernels that all compute zeros.
 * (tf.topk would choose the same but has no gradient at all in tfjs, which a tape would trip on.)
 */
function chooseTopK(scores: tf.Tensor3D, k: number): tf.Tensor3D {
  const E = scores.shape[2];
  const choose = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const s = inputs[0] as tf.Tensor;
    const picks: tf.Tensor[] = [];
    let rest = s;
    for (let j = 0; j < k; j++) {
      const pick = tf.argMax(rest, -1); // (B, T): the best expert left
      picks.push(pick);
      if (j + 1 < k) rest = tf.where(tf.cast(tf.oneHot(pick, E), "bool"), tf.fill(rest.shape, -Infinity), rest);
    }
    return { value: tf.stack(picks, -1), gradFunc: () => tf.zerosLike(s) };
  });
  return choose(scores) as tf.Tensor3D;
}

/**
 * The Switch Transformer's load-balancing loss, coef · E · Σᵢ fᵢ·Pᵢ, from probs (B, T, E) and chosen
 * (B, T, k): fᵢ the share of the token-to-expert assignments (every token's k) that went to expert i, so
 * Σᵢ fᵢ = 1 for any k; Pᵢ the mean router probability of expert i. Its least, coef, is where both are
 * uniform; only P carries a gradient (to the router), as in the paper.
 */
export function loadBalancingLoss(probs: tf.Tensor3D, chosen: tf.Tensor3D, coef: number): tf.Scalar {
  return tf.tidy(() => {
    const E = probs.shape[2];
    const f = tf.mean(tf.reshape(tf.oneHot(chosen, E), [-1, E]), 0); // (E): the shares of the assignments
    const P = tf.mean(tf.reshape(probs, [-1, E]), 0); // (E)
    return tf.mul(tf.sum(tf.mul(f, P)), coef * E) as tf.Scalar;
  });
}

/** One routing: the router's scores (B, T, E) and the experts chosen (B, T, k). */
export interface RoutingRecord {
  readonly scores: tf.Tensor3D;
  readonly chosen: tf.Tensor3D;
}

let recorded: RoutingRecord[] | undefined;

/**
 * Runs f and returns its result and, in the order they ran, every routing's scores and choice. The caller
 * owns (and disposes) the recorded tensors.
 */
export function recordRouting<T>(f: () => T): { readonly result: T; readonly routings: RoutingRecord[] } {
  if (recorded) throw new Error("recordRouting does not nest");
  const routings: RoutingRecord[] = [];
  recorded = routings;
  try {
    return { result: f(), routings };
  } catch (e) {
    for (const r of routings) tf.dispose([r.scores, r.chosen]);
    throw e;
  } finally {
    recorded = undefined;
  }
}

/**
 * How close each token's choice is to changing: the gap between the k-th highest score and the next,
 * per token (B·T values; Infinity where k is every expert, which no score can change). A gap below the
 * parity tests' margin means two frameworks' rounding could choose differently.
 */
export function choiceMargins(scores: Float32Array, E: number, k: number): Float32Array {
  const n = scores.length / E;
  const out = new Float32Array(n);
  for (let t = 0; t < n; t++) {
    if (k >= E) {
      out[t] = Infinity;
      continue;
    }
    const row = Array.from(scores.subarray(t * E, (t + 1) * E)).sort((a, b) => b - a);
    out[t] = row[k - 1]! - row[k]!;
  }
  return out;
}

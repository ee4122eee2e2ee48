// Reading the attention weights out of a forward pass, for attention maps. While recordAttentionWeights
// runs f, every causal mask applied records softmax(masked scores): that is the weights (B, T, T) of the
// attention that applied it, since in every attention the models run the mask's output goes straight
// into softmax (the single head's generated forward, and attention.ts's reference for each head). The ops
// run their references meanwhile: a fused kernel never materialises the weights. Outside a recording,
// causalMask pays one test of a variable, so training is not slowed.
import * as tf from "@tensorflow/tfjs";
import { withReferenceOps } from "./op.js";

let recorded: tf.Tensor[] | undefined;

/** Called by causalMask with the masked scores it returns: (B, T, T) for one head, (B, H, T, T) for all of a layer's. */
export function noteMaskedScores(masked: tf.Tensor): void {
  if (recorded) recorded.push(tf.keep(tf.softmax(masked)));
}

/**
 * Runs f with the ops' references and returns its result and, in the order the attentions ran, the
 * weights each computed: (B, T, T) per head, each row summing to 1. The caller owns (and disposes) them.
 */
export function recordAttentionWeights<T>(f: () => T): { readonly result: T; readonly weights: tf.Tensor[] } {
  if (recorded) throw new Error("recordAttentionWeights does not nest");
  const weights: tf.Tensor[] = [];
  recorded = weights;
  try {
    return { result: withReferenceOps(f), weights };
  } catch (e) {
    for (const w of weights) w.dispose();
    throw e;
  } finally {
    recorded = undefined;
  }
}

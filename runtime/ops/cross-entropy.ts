// Cross-entropy: the mean negative log-likelihood of the targets under softmax(logits), as PyTorch's
// F.cross_entropy. A target outside [0, V) contributes 0 (tf.oneHot gives its row no 1).
//
// Kernel BabygptCrossEntropy: inputs logits (..., V) float32, targets (...) int32; no attrs; output a
// scalar. BabygptCrossEntropyGrad returns dlogits.
import * as tf from "@tensorflow/tfjs";
import { defineOp, runOp } from "./op.js";

export const CROSS_ENTROPY = defineOp("BabygptCrossEntropy", { intInputs: ["targets"] });

/** logits (B, T, V), targets (B, T) int32 → scalar. */
export function crossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Scalar {
  return runOp<tf.Scalar>(CROSS_ENTROPY, { logits, targets }, {}) ?? crossEntropyReference(logits, targets);
}

function crossEntropyReference(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const [B, T, V] = logits.shape;
    const logProbs = tf.logSoftmax(tf.reshape(logits, [B * T, V])); // (B*T, V)
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(tf.reshape(targets, [B * T]), V)), -1); // (B*T)
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}

// Embedding: the rows of a table picked by int32 indices, tf.gather on axis 0, as nn.Embedding.
//
// Kernel BabygptEmbedding: inputs weight (count, dim) float32, indices (...) int32; no attrs; output
// (..., dim). BabygptEmbeddingGrad returns dweight (each row of dy summed into the row its index names).
import * as tf from "@tensorflow/tfjs";
import { defineOp, runOp } from "./op.js";

export const EMBEDDING = defineOp("BabygptEmbedding", { intInputs: ["indices"] });

export function embedding(weight: tf.Tensor2D, indices: tf.Tensor): tf.Tensor {
  return runOp(EMBEDDING, { weight, indices }, {}) ?? tf.gather(weight, indices);
}

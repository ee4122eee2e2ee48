// nn.Embedding: a table of `count` learned vectors, looked up by index (runtime/ops/embedding.ts). The
// table starts at zero; the model's init step draws it.
import { embedding } from "../ops/embedding.js";
import { Module } from "./module.js";
import { tf } from "./tf.js";

export class Embedding extends Module {
  readonly weight: tf.Variable;

  constructor(
    readonly count: number,
    readonly dim: number,
  ) {
    super();
    this.weight = this.param("weight", tf.zeros([count, dim]));
  }

  /** (B, T) int32 indices → (B, T, dim) */
  forward(idx: tf.Tensor2D): tf.Tensor3D {
    return embedding(this.weight as tf.Tensor2D, idx) as tf.Tensor3D;
  }

  /** `n` rows from row `from` (positions from … from+n-1): (n, dim). */
  rows(n: number, from = 0): tf.Tensor2D {
    return tf.slice(this.weight as tf.Tensor2D, [from, 0], [n, this.dim]);
  }
}

// nn.Linear: y = x Wᵀ + b on the last dimension (runtime/ops/linear.ts). W is stored (out, in) as in
// PyTorch, so checkpoints load into a torch state_dict as they are.
import { linear } from "../ops/linear.js";
import { linearBiasInit, linearWeightInit } from "./init.js";
import { Module } from "./module.js";
import type { tf } from "./tf.js";

export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;

  constructor(
    readonly nIn: number,
    readonly nOut: number,
    bias = true,
    /** A weight another module owns (tied embeddings: the token table); this layer then owns its bias alone. */
    shared?: tf.Variable,
  ) {
    super();
    this.weight = shared ?? this.param("weight", linearWeightInit(nOut, nIn));
    this.bias = bias ? this.param("bias", linearBiasInit(nOut, nIn)) : undefined;
  }

  /** (B, T, in) → (B, T, out) */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return linear(x, this.weight, this.bias);
  }
}

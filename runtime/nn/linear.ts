// nn.Linear: y = x Wᵀ + b on the last dimension (runtime/ops/linear.ts). W is stored (out, in) as in
// PyTorch, so checkpoints load into a torch state_dict as they are. Parameters start at zero; the model's
// init step draws them.
import { linear } from "../ops/linear.js";
import { Module } from "./module.js";
import { tf } from "./tf.js";

export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;
  /** False when the weight is another module's (tied embeddings): initialization leaves it to its owner. */
  readonly ownsWeight: boolean;
  /**
   * How the model's init step draws the weight, when not as its style draws linear weights: "zero"
   * (zero_init: the layer starts adding nothing), "residual" (GPT-2's 0.02/sqrt(R) for the last
   * projection of a residual body). Set by the generated constructor after building the layer.
   */
  initRule: "default" | "zero" | "residual" = "default";

  constructor(
    readonly nIn: number,
    readonly nOut: number,
    bias = true,
    /** A weight another module owns (tied embeddings: the token table); this layer then owns its bias alone. */
    shared?: tf.Variable,
  ) {
    super();
    this.ownsWeight = shared === undefined;
    this.weight = shared ?? this.param("weight", tf.zeros([nOut, nIn]));
    this.bias = bias ? this.param("bias", tf.zeros([nOut])) : undefined;
  }

  /** (..., in) → (..., out) */
  forward<T extends tf.Tensor>(x: T): T {
    return linear(x, this.weight, this.bias);
  }
}

// nn.Linear: y = x Wᵀ + b on the last dimension. W is stored (out, in) as in PyTorch, so checkpoints
// load into a torch state_dict as they are.
import { linearBiasInit, linearWeightInit } from "./init.js";
import { canFuse, fusedLinear } from "../native/fused.js";
import { Module } from "./module.js";
import { tf } from "./tf.js";

export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;

  constructor(
    readonly nIn: number,
    readonly nOut: number,
    bias = true,
  ) {
    super();
    this.weight = this.param("weight", linearWeightInit(nOut, nIn));
    this.bias = bias ? this.param("bias", linearBiasInit(nOut, nIn)) : undefined;
  }

  forward(x: tf.Tensor3D): tf.Tensor3D {
    // On the native backend one fused kernel does the product and the bias, forward and backward.
    if (canFuse(x, this.weight, this.bias)) return fusedLinear(x, this.weight, this.bias);
    const [B, T] = x.shape;
    const flat = tf.reshape(x, [B * T, this.nIn]); // (B*T, in)
    // Product then bias as two ops, not tf.fused.matMul: tfjs 4.22's wasm kernel adds the bias wrongly
    // to every row but the first when an operand is transposed (test/parity caught it).
    const product = tf.matMul(flat, this.weight as tf.Tensor2D, false, true); // (B*T, out)
    const y = this.bias ? tf.add(product, this.bias) : product;
    return tf.reshape(y, [B, T, this.nOut]); // (B, T, out)
  }
}

// The gated MLP's elementwise part: act(gate) · up, the activation of one projection multiplying another
// elementwise (SwiGLU with SiLU, GeGLU with GELU; Shazeer, "GLU Variants Improve Transformer", 2020).
//
// Kernel BabygptGatedActivation: inputs gate, up (the same shape); attrs GatedActivationAttrs; output the
// shape of gate. BabygptGatedActivationGrad returns dgate, dup.
import * as tf from "@tensorflow/tfjs";
import { relu2, silu } from "./activations.js";
import { gelu } from "./gelu.js";
import { defineOp, runOp } from "./op.js";

export const GATED_ACTIVATION = defineOp("BabygptGatedActivation");

export type GatedActivationKind = "relu" | "gelu" | "silu" | "relu2";

export interface GatedActivationAttrs {
  /** The gate's activation: ReLU, GELU (erf form, as gelu.ts), SiLU or ReLU². */
  readonly activation: GatedActivationKind;
}

export function gatedActivation<T extends tf.Tensor>(gate: T, up: T, activation: GatedActivationKind): T {
  const attrs: GatedActivationAttrs = { activation };
  return runOp<T>(GATED_ACTIVATION, { gate, up }, attrs) ?? gatedActivationReference(gate, up, activation);
}

const ACTIVATIONS: { readonly [A in GatedActivationKind]: (x: tf.Tensor) => tf.Tensor } = {
  relu: (x) => tf.relu(x),
  gelu,
  silu,
  relu2,
};

/** act(x) alone: an ungated MLP's middle, by the same names (the experts of a mixture read it). */
export function mlpActivation<T extends tf.Tensor>(x: T, activation: GatedActivationKind): T {
  return ACTIVATIONS[activation](x) as T;
}

/** act(gate) · up */
function gatedActivationReference<T extends tf.Tensor>(gate: T, up: T, activation: GatedActivationKind): T {
  return tf.tidy(() => tf.mul(ACTIVATIONS[activation](gate), up) as T);
}

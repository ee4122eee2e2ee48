// A mixture of experts' MLPs, each run on the tokens routed to it, their outputs weighted and summed
// (Mixtral's sparse dispatch). For every token t:
//   y[t] = Σⱼ weights[t, j] · expert_{chosen[t, j]}(x[t])
// where expert e is the feed-forward proj_e(act(fc_e(x))), or, gated, proj_e(act(gate_e(x)) · fc_e(x)).
//
// Kernel BabygptExpertMix: inputs x (B, T, C), weights (B, T, K), chosen (B, T, K) int32 (expert indices,
// distinct per token), then every expert's weight matrices in expert order, w0, w1, … (per expert: gate
// (H, C) when gated, fc (H, C), proj (C, H)), then their biases in the same order, b0, …, when the experts
// have biases; attrs ExpertMixAttrs; output (B, T, C). BabygptExpertMixGrad returns dx, dweights, the
// dw's, then the db's (chosen gets none). A kernel runs each expert on its own tokens alone, K of E of the
// reference's work: the reference below runs every expert on every token and weights those a token did
// not choose by 0, which gives the same sums, reads as the formula, and is differentiable by tfjs.
import * as tf from "@tensorflow/tfjs";
import type { Projection } from "./attention.js";
import { gatedActivation, mlpActivation, type GatedActivationKind } from "./gated-activation.js";
import { linear } from "./linear.js";
import { defineOp, runOp } from "./op.js";

export const EXPERT_MIX = defineOp("BabygptExpertMix", { intInputs: ["chosen"] });

export interface ExpertMixAttrs {
  /** E */
  readonly experts: number;
  /** K: the experts each token runs. */
  readonly topK: number;
  /** H: every expert's hidden width. */
  readonly hidden: number;
  /** The experts' activation (of the gate, when gated). */
  readonly activation: GatedActivationKind;
  readonly gated: boolean;
  readonly bias: boolean;
}

/** One expert's projections, as a generated FeedForward holds them (gate only when gated). */
export interface ExpertWeights {
  readonly gate?: Projection | undefined;
  readonly fc: Projection;
  readonly proj: Projection;
}

/**
 * x (B, T, C) → Σⱼ weights[..., j] · experts[chosen[..., j]](x) (B, T, C), weights and chosen (B, T, K)
 * as topKRouting (routing.ts) gives them. The kernel runs when the experts share their shapes and all or
 * none have biases and gates; otherwise, and on backends without it, the reference.
 */
export function expertMix(x: tf.Tensor3D, weights: tf.Tensor3D, chosen: tf.Tensor3D, experts: readonly ExpertWeights[], activation: GatedActivationKind): tf.Tensor3D {
  const kernel = kernelInputs(x, weights, chosen, experts);
  if (kernel) {
    const out = runOp<tf.Tensor3D>(EXPERT_MIX, kernel.inputs, { ...kernel.attrs, activation });
    if (out) return out;
  }
  return expertMixReference(x, weights, chosen, experts, activation);
}

/** The kernel's inputs and attrs, or undefined when the experts do not all have one shape. */
function kernelInputs(
  x: tf.Tensor3D,
  weights: tf.Tensor3D,
  chosen: tf.Tensor3D,
  experts: readonly ExpertWeights[],
): { inputs: Record<string, tf.Tensor>; attrs: Omit<ExpertMixAttrs, "activation"> } | undefined {
  const first = experts[0];
  if (!first) return undefined;
  const C = x.shape[2];
  const H = first.fc.weight.shape[0]!;
  const gated = first.gate !== undefined;
  const bias = first.fc.bias !== undefined;
  const inputs: Record<string, tf.Tensor> = { x, weights, chosen };
  const biases: tf.Tensor[] = [];
  let i = 0;
  for (const e of experts) {
    if ((e.gate !== undefined) !== gated) return undefined;
    const parts: [Projection, number, number][] = [...(e.gate ? [[e.gate, H, C] as [Projection, number, number]] : []), [e.fc, H, C], [e.proj, C, H]];
    for (const [p, rows, cols] of parts) {
      if (p.weight.rank !== 2 || p.weight.shape[0] !== rows || p.weight.shape[1] !== cols || (p.bias !== undefined) !== bias) return undefined;
      inputs[`w${i++}`] = p.weight;
      if (p.bias) biases.push(p.bias);
    }
  }
  biases.forEach((b, j) => (inputs[`b${j}`] = b));
  return { inputs, attrs: { experts: experts.length, topK: chosen.shape[2], hidden: H, gated, bias } };
}

function expertMixReference(x: tf.Tensor3D, weights: tf.Tensor3D, chosen: tf.Tensor3D, experts: readonly ExpertWeights[], activation: GatedActivationKind): tf.Tensor3D {
  return tf.tidy(() => {
    const E = experts.length;
    // Each token's weight for every expert: its router weight where it chose the expert, else 0.
    const share = tf.sum(tf.mul(tf.oneHot(chosen, E), tf.expandDims(weights, -1)), 2) as tf.Tensor3D; // (B, T, E)
    let y: tf.Tensor3D | undefined;
    experts.forEach((expert, e) => {
      const up = linear(x, expert.fc.weight, expert.fc.bias); // (B, T, H)
      const h = expert.gate ? gatedActivation(linear(x, expert.gate.weight, expert.gate.bias), up, activation) : mlpActivation(up, activation); // (B, T, H)
      const out = linear(h, expert.proj.weight, expert.proj.bias); // (B, T, C)
      const term = tf.mul(out, tf.slice(share, [0, 0, e], [-1, -1, 1])) as tf.Tensor3D; // (B, T, C)
      y = y ? (tf.add(y, term) as tf.Tensor3D) : term;
    });
    return y!;
  });
}

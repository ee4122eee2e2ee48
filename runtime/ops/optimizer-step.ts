// One optimizer update of every parameter: SGD, Adam or AdamW as PyTorch defines them (bias-corrected
// moments; AdamW decays each parameter by lr · weight_decay before the update). runtime/train/optimizer.ts
// keeps the moments and the step count; this is the arithmetic.
//
// Kernel BabygptOptimizerStep: inputs, one array: the n parameters, their n gradients (the same shapes)
// and, for Adam and AdamW, the n first moments and the n second moments; attrs OptimizerStepAttrs
// (count is n); no outputs: it rewrites the values of every parameter and moment in place, and must compute
// what the reference below computes, in float32. The op layer makes each p, m and v the only tensor that
// holds its data (the backend's refCount is 1) before it runs the kernel; a kernel that cannot write an
// array in place (someone read it, a view shares it) gives that tensor's data new storage.
import type { KernelBackend } from "@tensorflow/tfjs";
import * as tf from "@tensorflow/tfjs";
import { defineOp, kernelRuns, runKernel } from "./op.js";

export const OPTIMIZER_STEP = defineOp("BabygptOptimizerStep", { differentiable: false });

export interface OptimizerStepAttrs {
  readonly type: "sgd" | "adam" | "adamw";
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** AdamW only (Adam and SGD ignore it). */
  readonly weightDecay: number;
  /** Adam's step count t, this step included (the bias correction 1 - beta ** t). */
  readonly step: number;
  /** Every gradient is multiplied by this first (clipping by the global norm); 1 leaves them. */
  readonly gradScale: number;
  /** The number of parameters. */
  readonly count: number;
}

/** One update of params[i] from grads[i], with the moments m[i] and v[i] for Adam and AdamW. */
export function optimizerStep(
  attrs: OptimizerStepAttrs,
  params: readonly tf.Variable[],
  grads: readonly tf.Tensor[],
  m: readonly tf.Variable[],
  v: readonly tf.Variable[],
): void {
  const adam = attrs.type !== "sgd";
  const n = params.length;
  if (attrs.count !== n || grads.length !== n || (adam && (m.length !== n || v.length !== n))) {
    throw new Error(`optimizerStep: ${n} parameters, ${grads.length} gradients, ${m.length} and ${v.length} moments, count ${attrs.count}`);
  }
  const inputs: tf.Tensor[] = adam ? [...params, ...grads, ...m, ...v] : [...params, ...grads];
  const sameSizes = grads.every((g, i) => g.size === params[i]!.size && (!adam || (m[i]!.size === g.size && v[i]!.size === g.size)));
  if (sameSizes && kernelRuns(OPTIMIZER_STEP, inputs)) {
    const backend = tf.backend();
    for (const s of adam ? [...params, ...m, ...v] : params) ownData(backend, s);
    runKernel(OPTIMIZER_STEP, inputs, attrs);
    return;
  }
  optimizerStepReference(attrs, params, grads, m, v);
}

/**
 * Makes the variable the only tensor holding its data, as assign() leaves it: a tensor that shares the
 * data (a reshape of the variable, say) keeps the old values.
 */
function ownData(backend: KernelBackend, v: tf.Variable): void {
  if (backend.refCount(v.dataId) <= 1) return;
  const copy = tf.mul(v, 1); // exact: x · 1 = x for every float, -0 and NaN included
  v.assign(copy);
  copy.dispose();
}

function optimizerStepReference(
  attrs: OptimizerStepAttrs,
  params: readonly tf.Variable[],
  grads: readonly tf.Tensor[],
  m: readonly tf.Variable[],
  v: readonly tf.Variable[],
): void {
  const { type, lr, beta1: b1, beta2: b2, eps, weightDecay, step: t, gradScale } = attrs;
  const bc1 = 1 - b1 ** t;
  const bc2 = 1 - b2 ** t;
  tf.tidy(() => {
    params.forEach((p, i) => {
      let g = grads[i]!;
      if (gradScale !== 1) g = tf.mul(g, gradScale);
      if (type === "sgd") {
        p.assign(tf.sub(p, tf.mul(g, lr)));
        return;
      }
      const mi = m[i]!;
      const vi = v[i]!;
      mi.assign(tf.add(tf.mul(mi, b1), tf.mul(g, 1 - b1)));
      vi.assign(tf.add(tf.mul(vi, b2), tf.mul(tf.square(g), 1 - b2)));
      // p -= lr · (m / bc1) / (sqrt(v / bc2) + eps), written as PyTorch does it
      const denom = tf.add(tf.div(tf.sqrt(vi), Math.sqrt(bc2)), eps);
      const update = tf.mul(tf.div(mi, denom), lr / bc1);
      const decayed = type === "adamw" && weightDecay > 0 ? tf.mul(p, 1 - lr * weightDecay) : p;
      p.assign(tf.sub(decayed, update));
    });
  });
}

// Softmax + cross-entropy on WebGPU (runtime/ops/cross-entropy.ts has the math). Forward: one workgroup
// per row finds the row's max and log-sum-exp and its loss, lse - logit[target] (0 for a target outside
// [0, V), as tf.oneHot gives such a row no 1); one more workgroup takes the mean. Only the row's lse is
// kept for the gradient, which recomputes each probability from the logit: dlogits = (softmax - onehot) ·
// dy / rows, one thread per logit (0 for a row whose target is outside [0, V)). The tfjs composite (logSoftmax, oneHot, mul, sum, mean) costs ~12
// kernels forward and as many backward, and keeps the (rows, V) one-hot and log-probabilities.
import type { TensorInfo } from "@tensorflow/tfjs";
import { CROSS_ENTROPY } from "../../ops/index.js";
import { dispose, output, reshaped, run, uniforms, type Kernel } from "../dispatch.js";
import { buffers, ENTRY, flatIndex, reductions, rowGroupSize, uniformStruct, WG_INDEX } from "../wgsl.js";
import { define, keepForGradient, kept, sizeOf } from "./define.js";

const rowKernels = new Map<number, Kernel>();

function rowKernel(size: number): Kernel {
  let k = rowKernels.get(size);
  if (k) return k;
  const code = `
${buffers([["logits", "read", "f32"], ["targets", "read", "i32"], ["loss", "read_write", "f32"], ["lse", "read_write", "f32"]])}
${uniformStruct(4, [["rows", "u32"], ["V", "u32"]])}
${reductions(size)}
@compute @workgroup_size(${size})
fn main(${ENTRY}) {
  lid_ = lid;
  ${WG_INDEX}
  if (wg >= u.rows) { return; }
  let base = wg * u.V;
  var m = -3.4028234e38;
  for (var j = lid; j < u.V; j = j + ${size}u) { m = max(m, logits[base + j]); }
  let rowMax = maxAll(m);
  var s = 0.0;
  for (var j = lid; j < u.V; j = j + ${size}u) { s = s + exp(logits[base + j] - rowMax); }
  let l = rowMax + log(sumAll(s));
  if (lid == 0u) {
    let t = targets[wg];
    var picked = 0.0;
    if (t >= 0 && u32(t) < u.V) { picked = l - logits[base + u32(t)]; }
    loss[wg] = picked;
    lse[wg] = l;
  }
}`;
  k = { key: `crossEntropyRows/${size}`, code };
  rowKernels.set(size, k);
  return k;
}

const MEAN: Kernel = {
  key: "crossEntropyMean",
  code: `
${buffers([["loss", "read", "f32"], ["out", "read_write", "f32"]])}
${uniformStruct(2, [["rows", "u32"]])}
${reductions(256)}
@compute @workgroup_size(256)
fn main(${ENTRY}) {
  lid_ = lid;
  var s = 0.0;
  for (var r = lid; r < u.rows; r = r + 256u) { s = s + loss[r]; }
  let total = sumAll(s);
  if (lid == 0u) { out[0] = total / f32(u.rows); }
}`,
};

const GRAD: Kernel = {
  key: "crossEntropyGrad",
  code: `
${buffers([["logits", "read", "f32"], ["targets", "read", "i32"], ["lse", "read", "f32"], ["dy", "read", "f32"], ["dl", "read_write", "f32"]])}
${uniformStruct(5, [["n", "u32"], ["V", "u32"], ["rows", "u32"]])}
@compute @workgroup_size(256)
fn main(${ENTRY}) {
  ${flatIndex(256)}
  if (idx >= u.n) { return; }
  let r = idx / u.V;
  let j = idx - r * u.V;
  let p = exp(logits[idx] - lse[r]);
  let t = targets[r];
  let hit = select(0.0, 1.0, t == i32(j));
  // A target outside [0, V) has no one-hot 1, so the row's loss is 0 and so is its gradient.
  let valid = t >= 0 && u32(t) < u.V;
  dl[idx] = select(0.0, (p - hit) * (dy[0] / f32(u.rows)), valid);
}`,
};

const crossEntropy = define(CROSS_ENTROPY.name, (b, { inputs, attrs }) => {
  const { logits, targets } = inputs as Record<string, TensorInfo>;
  const V = logits!.shape[logits!.shape.length - 1]!;
  const rows = sizeOf(logits!.shape) / V;
  const loss = output(b, [rows]);
  const lse = output(b, [rows]);
  run(b, rowKernel(rowGroupSize(V)), [reshaped(logits!, [rows * V]), reshaped(targets!, [rows]), loss, lse], uniforms([["u32", rows], ["u32", V]]), rows);
  const out = output(b, []);
  run(b, MEAN, [loss, out], uniforms([["u32", rows]]), 1);
  dispose(b, loss);
  keepForGradient(b, attrs, { logits: logits!, targets: targets! }, { lse });
  return out;
});

const crossEntropyGrad = define(CROSS_ENTROPY.gradName!, (b, { inputs, attrs }) => {
  const { logits, targets, lse } = kept(attrs, CROSS_ENTROPY);
  const V = logits!.shape[logits!.shape.length - 1]!;
  const n = sizeOf(logits!.shape);
  const dl = output(b, logits!.shape.slice());
  run(b, GRAD, [reshaped(logits!, [n]), reshaped(targets!, [n / V]), lse!, inputs["dy"]!, dl], uniforms([["u32", n], ["u32", V], ["u32", n / V]]), Math.ceil(n / 256));
  return dl;
});

export const CROSS_ENTROPY_KERNELS = [crossEntropy, crossEntropyGrad];

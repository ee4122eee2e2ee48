// The training ops on WebGPU (runtime/ops/optimizer-step.ts and global-norm.ts have the math): the
// optimizer's update of every parameter and the global gradient norm, each one dispatch over all the
// tensors at once rather than a dozen tf ops per parameter (~2,000 dispatches for the lecture GPT's AdamW
// step). A shader binds a handful of buffers, so the tensors are first packed end to end into one buffer
// by buffer copies (no shader runs for them), and the updated parameters and moments are copied back
// into their own buffers, which is what "in place" means here: each tensor keeps its buffer and gets the
// new values. A model whose parameters exceed the largest buffer one binding may span
// (maxStorageBufferBindingSize) is updated in as many dispatches as it takes.
import type { TensorInfo } from "@tensorflow/tfjs";
import { GLOBAL_NORM, OPTIMIZER_STEP, type OptimizerStepAttrs } from "../../ops/index.js";
import { bytesOf, copy, dispose, forgetCpuCopy, output, run, uniforms, type Kernel, type WebGPUBackendLike } from "../dispatch.js";
import { buffers, ENTRY, flatIndex, reductions, uniformStruct } from "../wgsl.js";
import { define } from "./define.js";

/** Splits tensors (indices into ts) into groups of at most `maxBytes` each, in order. */
export function groupsOf(sizes: readonly number[], maxBytes: number): number[][] {
  const groups: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  sizes.forEach((s, i) => {
    if (current.length > 0 && bytes + s > maxBytes) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += s;
  });
  if (current.length > 0) groups.push(current);
  return groups;
}

/** Copies `ts` end to end into one new tensor of `total` floats. */
function pack(b: WebGPUBackendLike, ts: readonly TensorInfo[], total: number): TensorInfo {
  const out = output(b, [total]);
  let offset = 0;
  copy(
    b,
    ts.map((t) => {
      const c = { from: t, fromOffset: 0, to: out, toOffset: offset, bytes: bytesOf(t) };
      offset += c.bytes;
      return c;
    }),
  );
  return out;
}

/** Copies a packed tensor back into the tensors it was packed from, and drops their stale CPU copies. */
function unpack(b: WebGPUBackendLike, packed: TensorInfo, ts: readonly TensorInfo[]): void {
  let offset = 0;
  copy(
    b,
    ts.map((t) => {
      const c = { from: packed, fromOffset: offset, to: t, toOffset: 0, bytes: bytesOf(t) };
      offset += c.bytes;
      return c;
    }),
  );
  for (const t of ts) forgetCpuCopy(b, t);
}

const UPDATE_UNIFORMS = [
  ["n", "u32"],
  ["scaled", "u32"],
  ["decay", "u32"],
  ["lr", "f32"],
  ["beta1", "f32"],
  ["oneMinusBeta1", "f32"],
  ["beta2", "f32"],
  ["oneMinusBeta2", "f32"],
  ["sqrtBc2", "f32"],
  ["eps", "f32"],
  ["stepSize", "f32"],
  ["decayFactor", "f32"],
  ["gradScale", "f32"],
] as const;

// Adam and AdamW as PyTorch writes them: m, v bias-corrected, p -= lr/bc1 · m / (sqrt(v)/sqrt(bc2) + eps),
// AdamW first decaying p by lr · weight_decay.
const ADAM: Kernel = {
  key: "adamStep",
  code: `
${buffers([["g", "read", "f32"], ["p", "read_write", "f32"], ["m", "read_write", "f32"], ["v", "read_write", "f32"]])}
${uniformStruct(4, UPDATE_UNIFORMS)}
@compute @workgroup_size(256)
fn main(${ENTRY}) {
  ${flatIndex(256)}
  if (idx >= u.n) { return; }
  var grad = g[idx];
  if (u.scaled == 1u) { grad = grad * u.gradScale; }
  let mi = m[idx] * u.beta1 + grad * u.oneMinusBeta1;
  let vi = v[idx] * u.beta2 + (grad * grad) * u.oneMinusBeta2;
  m[idx] = mi;
  v[idx] = vi;
  let denom = sqrt(vi) / u.sqrtBc2 + u.eps;
  let update = (mi / denom) * u.stepSize;
  var pi = p[idx];
  if (u.decay == 1u) { pi = pi * u.decayFactor; }
  p[idx] = pi - update;
}`,
};

const SGD: Kernel = {
  key: "sgdStep",
  code: `
${buffers([["g", "read", "f32"], ["p", "read_write", "f32"]])}
${uniformStruct(2, UPDATE_UNIFORMS)}
@compute @workgroup_size(256)
fn main(${ENTRY}) {
  ${flatIndex(256)}
  if (idx >= u.n) { return; }
  var grad = g[idx];
  if (u.scaled == 1u) { grad = grad * u.gradScale; }
  p[idx] = p[idx] - grad * u.lr;
}`,
};

function maxBindingBytes(b: WebGPUBackendLike): number {
  return Math.min(b.device.limits.maxStorageBufferBindingSize, b.device.limits.maxBufferSize);
}

const optimizerStep = define(OPTIMIZER_STEP.name, (b, { inputs, attrs }) => {
  const s = attrs as unknown as OptimizerStepAttrs;
  const n = s.count;
  const list = inputs as unknown as TensorInfo[]; // parameters, gradients, first moments, second moments
  const adam = s.type !== "sgd";
  const bc1 = 1 - s.beta1 ** s.step;
  const bc2 = 1 - s.beta2 ** s.step;
  const sizes = list.slice(0, n).map(bytesOf);
  for (const group of groupsOf(sizes, maxBindingBytes(b))) {
    const total = group.reduce((a, i) => a + sizes[i]! / 4, 0);
    const pick = (k: number): TensorInfo[] => group.map((i) => list[k * n + i]!);
    const p = pack(b, pick(0), total);
    const g = pack(b, pick(1), total);
    const m = adam ? pack(b, pick(2), total) : undefined;
    const v = adam ? pack(b, pick(3), total) : undefined;
    const u = uniforms([
      ["u32", total],
      ["u32", s.gradScale !== 1 ? 1 : 0],
      ["u32", s.type === "adamw" && s.weightDecay > 0 ? 1 : 0],
      ["f32", s.lr],
      ["f32", s.beta1],
      ["f32", 1 - s.beta1],
      ["f32", s.beta2],
      ["f32", 1 - s.beta2],
      ["f32", Math.sqrt(bc2)],
      ["f32", s.eps],
      ["f32", s.lr / bc1],
      ["f32", 1 - s.lr * s.weightDecay],
      ["f32", s.gradScale],
    ]);
    run(b, adam ? ADAM : SGD, adam ? [g, p, m!, v!] : [g, p], u, Math.ceil(total / 256));
    unpack(b, p, pick(0));
    if (m && v) {
      unpack(b, m, pick(2));
      unpack(b, v, pick(3));
    }
    dispose(b, p, g, m, v);
  }
  return [];
});

/** Elements each workgroup of the norm's first pass sums. */
const BLOCK = 4096;

const SQUARES: Kernel = {
  key: "sumSquares",
  code: `
${buffers([["x", "read", "f32"], ["partial", "read_write", "f32"]])}
${uniformStruct(2, [["n", "u32"], ["base", "u32"]])}
${reductions(256)}
@compute @workgroup_size(256)
fn main(${ENTRY}) {
  lid_ = lid;
  let wg = wid.y * nwg.x + wid.x;
  var s = 0.0;
  let end = min(u.n, (wg + 1u) * ${BLOCK}u);
  for (var i = wg * ${BLOCK}u + lid; i < end; i = i + 256u) { let e = x[i]; s = s + e * e; }
  let total = sumAll(s);
  if (lid == 0u) { partial[u.base + wg] = total; }
}`,
};

const SQRT_SUM: Kernel = {
  key: "sqrtOfSum",
  code: `
${buffers([["partial", "read", "f32"], ["out", "read_write", "f32"]])}
${uniformStruct(2, [["n", "u32"]])}
${reductions(256)}
@compute @workgroup_size(256)
fn main(${ENTRY}) {
  lid_ = lid;
  var s = 0.0;
  for (var i = lid; i < u.n; i = i + 256u) { s = s + partial[i]; }
  let total = sumAll(s);
  if (lid == 0u) { out[0] = sqrt(total); }
}`,
};

const globalNorm = define(GLOBAL_NORM.name, (b, { inputs }) => {
  const list = inputs as unknown as TensorInfo[];
  const sizes = list.map(bytesOf);
  const groups = groupsOf(sizes, maxBindingBytes(b)).map((g) => ({ g, total: g.reduce((a, i) => a + sizes[i]! / 4, 0) }));
  const blocks = groups.map(({ total }) => Math.ceil(total / BLOCK));
  const partial = output(b, [blocks.reduce((a, x) => a + x, 0)]);
  let base = 0;
  groups.forEach(({ g, total }, k) => {
    const packed = pack(b, g.map((i) => list[i]!), total);
    run(b, SQUARES, [packed, partial], uniforms([["u32", total], ["u32", base]]), blocks[k]!);
    dispose(b, packed);
    base += blocks[k]!;
  });
  const out = output(b, []);
  run(b, SQRT_SUM, [partial, out], uniforms([["u32", base]]), 1);
  dispose(b, partial);
  return out;
});

export const TRAINING_KERNELS = [optimizerStep, globalNorm];

// Fused kernels of the native backend, each with its gradient: a linear layer, layer normalization,
// GELU, causal self-attention (one head, or all heads of a layer at once, with or without dropout on
// the attention weights), the cross-entropy loss, the embedding lookup and dropout. Written as separate
// tfjs ops they cost tens of kernel calls each, forward and backward, and on a model as small as the baby
// GPT the engine's work per call (tape, bookkeeping, tensor objects) weighs as much as the arithmetic.
// One kernel forward and one backward per layer removes most of that. The multi-head kernel also
// projects x for all heads with one matrix product instead of three per head.
//
// The kernels exist only on the native backend. The functions at the end (fusedLinear, ...) run them;
// the runtime/nn building blocks call those when the native backend is active and keep their plain-tfjs
// code for every other backend (see runtime/nn/functional.ts, linear.ts and embedding.ts).
//
// What a gradient needs is not kept as tensors on the tape. The engine would keep a clone of each such
// tensor (one Identity kernel call apiece), and every extra output of a kernel (the probabilities,
// layer norm's statistics, the projections) would get a gradient of zeros made in JavaScript during
// backprop: 8 MB of fresh zeros per baby GPT step, gigabytes for the lecture GPT. Instead, when the tape
// is recording, the forward kernel leaves the arrays in a `saved` holder inside its attrs (the engine
// hands the same attrs object to the gradient function): its inputs' arrays, marked in the pool so that
// they are not recycled when their tensors are disposed (pool.ts's retain), and arrays it computed for
// the purpose. The gradient kernel reads them and gives them back. Outside a gradient tape nothing is
// kept.
//
// Gradients that come out of one kernel together (dx, dW, db) are computed when the engine calls the
// node's gradFunc, which it does once per tape node before asking for each input's gradient; the
// per-input thunks just hand out the tensors already made. One the engine does not ask for (an input
// that no variable depends on) is disposed with the backward pass's other intermediates, at the end of
// tf.grads' scope.
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, NamedTensorMap, TensorInfo } from "@tensorflow/tfjs";
import { tf } from "../nn/tf.js";
import { UnaryOp, type NativeAddon } from "./addon.js";
import { allocF32, allocU8, noteReleased, release, releaseU8, retain } from "./pool.js";
import { f32, i32, sizeOf } from "./storage.js";

const BACKEND = "native";

/** The fused kernels' names, as tf.profile shows them. */
export const FusedKernel = {
  Linear: "BabygptLinear",
  LinearGrad: "BabygptLinearGrad",
  LayerNorm: "BabygptLayerNorm",
  LayerNormGrad: "BabygptLayerNormGrad",
  Gelu: "BabygptGelu",
  GeluGrad: "BabygptGeluGrad",
  Attention: "BabygptAttention",
  AttentionGrad: "BabygptAttentionGrad",
  MultiHeadAttention: "BabygptMultiHeadAttention",
  MultiHeadAttentionGrad: "BabygptMultiHeadAttentionGrad",
  CrossEntropy: "BabygptCrossEntropy",
  CrossEntropyGrad: "BabygptCrossEntropyGrad",
  Embedding: "BabygptEmbedding",
  EmbeddingGrad: "BabygptEmbeddingGrad",
  Dropout: "BabygptDropout",
  DropoutGrad: "BabygptDropoutGrad",
} as const;

interface Args {
  inputs: NamedTensorInfoMap;
  backend: object;
  attrs?: NamedAttrMap;
}

/** What a forward kernel leaves for its gradient; see the file comment. */
interface Saved {
  /** Input arrays marked with retain(), given back with release(). */
  readonly retained: Float32Array[];
  /** Arrays the kernel allocated for the gradient, freed by it. */
  readonly owned: Float32Array[];
  readonly bytes: Uint8Array[];
  /** The id of the kernel's output tensor: gradients with a larger id were made during backprop. */
  outId?: number;
  /** Named views of the above, and shapes. */
  readonly f: Record<string, Float32Array>;
  readonly i: Record<string, Int32Array>;
  readonly u: Record<string, Uint8Array>;
  readonly shapes: Record<string, number[]>;
}

function newSaved(): Saved {
  return { retained: [], owned: [], bytes: [], f: {}, i: {}, u: {}, shapes: {} };
}

/** The holder in attrs when the tape is recording this kernel call, else undefined. */
function savedOf(attrs: NamedAttrMap | undefined): Saved | undefined {
  return (attrs as { saved?: Saved } | undefined)?.saved;
}

function keepInput(s: Saved, name: string, values: Float32Array, shape: number[]): void {
  retain(values);
  s.retained.push(values);
  s.f[name] = values;
  s.shapes[name] = shape.slice();
}

function keepOwned(s: Saved, name: string, values: Float32Array): void {
  s.owned.push(values);
  s.f[name] = values;
}

/** Gives back everything a Saved holds (after the gradient kernel ran). */
function releaseSaved(s: Saved): void {
  for (const v of s.retained) release(v);
  for (const v of s.owned) noteReleased(v);
  for (const v of s.bytes) releaseU8(v);
  s.retained.length = 0;
  s.owned.length = 0;
  s.bytes.length = 0;
}

/** True when the engine records the op about to run on a gradient tape (so its gradient may be asked). */
function recording(): boolean {
  const state = (tf.engine() as unknown as { state: { gradientDepth: number; kernelDepth: number } }).state;
  return state.gradientDepth > 0 && state.kernelDepth === 0;
}

/** Attributes for a forward kernel: with a fresh `saved` holder when the tape records it. */
function forwardAttrs(attrs: Record<string, unknown>): NamedAttrMap {
  if (recording()) attrs["saved"] = newSaved();
  return attrs as NamedAttrMap;
}

let addon: NativeAddon;
const MATMUL = new Int32Array(10);

function values(b: MathBackendCPU, t: TensorInfo | undefined, what: string): Float32Array {
  const v = f32(b, t);
  if (!v) throw new Error(`native fused kernel: ${what} must be a float32 tensor`);
  return v;
}

function ints(b: MathBackendCPU, t: TensorInfo | undefined, what: string): Int32Array {
  const v = i32(b, t);
  if (!v) throw new Error(`native fused kernel: ${what} must be an int32 tensor`);
  return v;
}

/** c = op(a) x op(b) (+ bias on every row) for single matrices. */
function gemm(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  bias: Float32Array | null,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
): void {
  MATMUL[0] = 1;
  MATMUL[1] = 1;
  MATMUL[2] = 1;
  MATMUL[3] = M;
  MATMUL[4] = N;
  MATMUL[5] = K;
  MATMUL[6] = transA ? 1 : 0;
  MATMUL[7] = transB ? 1 : 0;
  MATMUL[8] = 0;
  MATMUL[9] = 0;
  addon.matmul(a, b, c, bias, null, null, MATMUL, 0);
}

function define(kernelName: string, f: (b: MathBackendCPU, args: Args) => TensorInfo | TensorInfo[]): KernelConfig {
  return {
    kernelName,
    backendName: BACKEND,
    kernelFunc: ((args: Args) => f(args.backend as MathBackendCPU, args)) as unknown as KernelFunc,
  };
}

function make(b: MathBackendCPU, shape: number[], v: Float32Array): TensorInfo {
  return b.makeTensorInfo(shape, "float32", v);
}

/** The forward attrs a gradient kernel was given, with their saved arrays. */
function gradSaved(attrs: NamedAttrMap | undefined, kernel: string): Saved {
  const s = savedOf(attrs);
  if (!s) throw new Error(`${kernel}: the forward kernel kept nothing for its gradient (it ran outside a gradient tape)`);
  return s;
}

// ---- linear ----

// y = x W^T + b over the last axis of x; W is (out, in) as in PyTorch.
const linear = define(FusedKernel.Linear, (b, { inputs, attrs }) => {
  const { x, weight, bias } = inputs as Record<string, TensorInfo | undefined>;
  const [nOut, nIn] = weight!.shape as [number, number];
  if (x!.shape[x!.shape.length - 1] !== nIn) throw new Error(`linear: input width ${x!.shape} does not match weight ${weight!.shape}`);
  const rows = sizeOf(x!.shape) / nIn;
  const y = allocF32(rows * nOut);
  const xv = values(b, x, "x");
  const wv = values(b, weight, "weight");
  gemm(xv, wv, y, bias ? values(b, bias, "bias") : null, rows, nOut, nIn, false, true);
  const s = savedOf(attrs);
  if (s) {
    keepInput(s, "x", xv, x!.shape);
    keepInput(s, "weight", wv, weight!.shape);
  }
  return make(b, [...x!.shape.slice(0, -1), nOut], y);
});

// dx = dy W, dW = dy^T x, db = column sums of dy.
const linearGrad = define(FusedKernel.LinearGrad, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, FusedKernel.LinearGrad);
  const dy = inputs["dy"]!;
  const xShape = s.shapes["x"]!;
  const [nOut, nIn] = s.shapes["weight"] as [number, number];
  const rows = sizeOf(xShape) / nIn;
  const dyv = values(b, dy, "dy");
  const dx = allocF32(rows * nIn);
  const dw = allocF32(nOut * nIn);
  gemm(dyv, s.f["weight"]!, dx, null, rows, nIn, nOut, false, false);
  gemm(dyv, s.f["x"]!, dw, null, nOut, nIn, rows, true, false);
  const outs = [make(b, xShape.slice(), dx), make(b, [nOut, nIn], dw)];
  if (attrs?.["hasBias"]) {
    const db = allocF32(nOut);
    addon.colSum(dyv, db, nOut, false);
    outs.push(make(b, [nOut], db));
  }
  return outs;
});

// ---- layer norm ----

const layerNorm = define(FusedKernel.LayerNorm, (b, { inputs, attrs }) => {
  const { x, gamma, beta } = inputs as Record<string, TensorInfo>;
  const C = x!.shape[x!.shape.length - 1]!;
  const rows = sizeOf(x!.shape) / C;
  const y = allocF32(rows * C);
  const mean = allocF32(rows);
  const rstd = allocF32(rows);
  const xv = values(b, x, "x");
  const gv = values(b, gamma, "gamma");
  addon.layerNorm(xv, gv, values(b, beta, "beta"), y, mean, rstd, C, Number(attrs?.["eps"]));
  const s = savedOf(attrs);
  if (s) {
    keepInput(s, "x", xv, x!.shape);
    keepInput(s, "gamma", gv, gamma!.shape);
    keepOwned(s, "mean", mean);
    keepOwned(s, "rstd", rstd);
  } else {
    noteReleased(mean);
    noteReleased(rstd);
  }
  return make(b, x!.shape.slice(), y);
});

const layerNormGrad = define(FusedKernel.LayerNormGrad, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, FusedKernel.LayerNormGrad);
  const xShape = s.shapes["x"]!;
  const C = xShape[xShape.length - 1]!;
  const dx = allocF32(sizeOf(xShape));
  const dgamma = allocF32(C);
  const dbeta = allocF32(C);
  addon.layerNormGrad(s.f["x"]!, s.f["gamma"]!, s.f["mean"]!, s.f["rstd"]!, values(b, inputs["dy"], "dy"), dx, dgamma, dbeta, C);
  return [make(b, xShape.slice(), dx), make(b, [C], dgamma), make(b, [C], dbeta)];
});

// ---- GELU ----

const gelu = define(FusedKernel.Gelu, (b, { inputs, attrs }) => {
  const x = inputs["x"]!;
  const xv = values(b, x, "x");
  const y = allocF32(xv.length);
  addon.unary(UnaryOp.Gelu, xv, y, 0);
  const s = savedOf(attrs);
  if (s) keepInput(s, "x", xv, x.shape);
  return make(b, x.shape.slice(), y);
});

// Recomputing erf and exp from x costs less here than keeping gelu'(x) from the forward pass and
// multiplying: both read and write as much memory, and this kernel runs on every core.
const geluGrad = define(FusedKernel.GeluGrad, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, FusedKernel.GeluGrad);
  const xv = s.f["x"]!;
  const dx = allocF32(xv.length);
  addon.geluGrad(xv, values(b, inputs["dy"], "dy"), dx);
  return make(b, s.shapes["x"]!.slice(), dx);
});

// ---- attention ----

/** [..., T, D] → B (the product of the leading dims), T, D. */
function btd(shape: number[]): [number, number, number] {
  const D = shape[shape.length - 1]!;
  const T = shape[shape.length - 2]!;
  return [sizeOf(shape.slice(0, -2)), T, D];
}

const attention = define(FusedKernel.Attention, (b, { inputs, attrs }) => {
  const { q, k, v } = inputs as Record<string, TensorInfo>;
  const [B, T, D] = btd(q!.shape);
  const o = allocF32(B * T * D);
  const p = allocF32(B * T * T);
  const qv = values(b, q, "q");
  const kv = values(b, k, "k");
  const vv = values(b, v, "v");
  addon.attention(qv, kv, vv, o, p, B, T, D, Number(attrs?.["scale"]));
  const s = savedOf(attrs);
  if (s) {
    keepInput(s, "q", qv, q!.shape);
    keepInput(s, "k", kv, k!.shape);
    keepInput(s, "v", vv, v!.shape);
    keepOwned(s, "p", p);
  } else {
    noteReleased(p);
  }
  return make(b, q!.shape.slice(), o);
});

const attentionGrad = define(FusedKernel.AttentionGrad, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, FusedKernel.AttentionGrad);
  const shape = s.shapes["q"]!;
  const [B, T, D] = btd(shape);
  const n = B * T * D;
  const dq = allocF32(n);
  const dk = allocF32(n);
  const dv = allocF32(n);
  const scratch = allocF32(T * T);
  addon.attentionGrad(s.f["q"]!, s.f["k"]!, s.f["v"]!, s.f["p"]!, values(b, inputs["dy"], "dy"), dq, dk, dv, scratch, B, T, D, Number(attrs?.["scale"]));
  noteReleased(scratch);
  return [make(b, shape.slice(), dq), make(b, shape.slice(), dk), make(b, shape.slice(), dv)];
});

interface MhaAttrs {
  heads: number;
  headSize: number;
  scale: number;
  hasBias: boolean;
  /** Dropout on the attention weights: the keep probability (1: none) and one seed per head. */
  keep: number;
  seeds: number[];
}

function mhaAttrs(attrs: NamedAttrMap | undefined): MhaAttrs {
  return attrs as unknown as MhaAttrs;
}

// All heads of a multi-head causal self-attention, from x and every head's projections: inputs x, w0..,
// b0.. in the order q0, k0, v0, q1, ... One GEMM projects x to every head's q, k and v at once (instead
// of 3 per head); the heads' outputs come out side by side, already concatenated. With keep < 1, dropout
// on the attention weights, each head's keep flags drawn as tf.dropout draws them from its seed. Keeps
// for the gradient: x, the projections qkv [rows, 3HD], the weights p [B, H, T, T] (before dropout),
// the stacked weights and the keep flags.
const multiHeadAttention = define(FusedKernel.MultiHeadAttention, (b, { inputs, attrs }) => {
  const { heads: H, headSize: D, scale, hasBias, keep, seeds } = mhaAttrs(attrs);
  const x = inputs["x"]!;
  const C = x.shape[x.shape.length - 1]!;
  const T = x.shape[x.shape.length - 2]!;
  const rows = sizeOf(x.shape) / C;
  const B = rows / T;
  const W = 3 * H * D;
  const wcat = allocF32(W * C);
  const bcat = hasBias ? allocF32(W) : null;
  for (let i = 0; i < 3 * H; i++) {
    wcat.set(values(b, inputs[`w${i}`], "weight"), i * D * C);
    if (bcat) bcat.set(values(b, inputs[`b${i}`], "bias"), i * D);
  }
  const xv = values(b, x, "x");
  const qkv = allocF32(rows * W);
  gemm(xv, wcat, qkv, bcat, rows, W, C, false, true);
  if (bcat) noteReleased(bcat);
  const o = allocF32(rows * H * D);
  const p = allocF32(B * H * T * T);
  let mask: Uint8Array | null = null;
  if (keep < 1) {
    mask = allocU8(B * H * T * T);
    addon.headDropoutMasks(Float64Array.from(seeds), mask, B, H, T, keep);
  }
  addon.mhaAttentionDropout(qkv, o, p, mask, keep, B, T, H, D, scale);
  const s = savedOf(attrs);
  if (s) {
    keepInput(s, "x", xv, x.shape);
    keepOwned(s, "qkv", qkv);
    keepOwned(s, "p", p);
    keepOwned(s, "wcat", wcat);
    if (mask) {
      s.bytes.push(mask);
      s.u["mask"] = mask;
    }
  } else {
    noteReleased(qkv);
    noteReleased(p);
    noteReleased(wcat);
    if (mask) releaseU8(mask);
  }
  return make(b, [...x.shape.slice(0, -1), H * D], o);
});

// dx = dqkv W, and each head's dW (rows of dqkv^T x) and db (column sums of dqkv).
const multiHeadAttentionGrad = define(FusedKernel.MultiHeadAttentionGrad, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, FusedKernel.MultiHeadAttentionGrad);
  const { heads: H, headSize: D, scale, hasBias, keep } = mhaAttrs(attrs);
  const xShape = s.shapes["x"]!;
  const C = xShape[xShape.length - 1]!;
  const T = xShape[xShape.length - 2]!;
  const rows = sizeOf(xShape) / C;
  const B = rows / T;
  const W = 3 * H * D;
  const dqkv = allocF32(rows * W);
  const scratch = allocF32(T * T);
  addon.mhaAttentionDropoutGrad(s.f["qkv"]!, s.f["p"]!, s.u["mask"] ?? null, keep, values(b, inputs["dy"], "dy"), dqkv, scratch, B, T, H, D, scale);
  noteReleased(scratch);
  const dx = allocF32(rows * C);
  gemm(dqkv, s.f["wcat"]!, dx, null, rows, C, W, false, false);
  const dw = allocF32(W * C);
  gemm(dqkv, s.f["x"]!, dw, null, W, C, rows, true, false);
  const outs = [make(b, xShape.slice(), dx)];
  for (let i = 0; i < 3 * H; i++) {
    const w = allocF32(D * C);
    w.set(dw.subarray(i * D * C, (i + 1) * D * C));
    outs.push(make(b, [D, C], w));
  }
  noteReleased(dw);
  if (hasBias) {
    const db = new Float32Array(W);
    addon.colSum(dqkv, db, W, false);
    for (let i = 0; i < 3 * H; i++) outs.push(make(b, [D], db.slice(i * D, (i + 1) * D)));
  }
  noteReleased(dqkv);
  return outs;
});

// ---- cross-entropy ----

const crossEntropy = define(FusedKernel.CrossEntropy, (b, { inputs, attrs }) => {
  const { logits, targets } = inputs as Record<string, TensorInfo>;
  const V = logits!.shape[logits!.shape.length - 1]!;
  const lv = values(b, logits, "logits");
  const tv = ints(b, targets, "targets");
  const probs = allocF32(lv.length);
  const loss = addon.crossEntropy(lv, tv, probs, V);
  const s = savedOf(attrs);
  if (s) {
    keepOwned(s, "probs", probs);
    s.i["targets"] = tv.slice();
    s.shapes["logits"] = logits!.shape.slice();
  } else {
    noteReleased(probs);
  }
  return make(b, [], Float32Array.of(loss));
});

const crossEntropyGrad = define(FusedKernel.CrossEntropyGrad, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, FusedKernel.CrossEntropyGrad);
  const pv = s.f["probs"]!;
  const tv = s.i["targets"]!;
  const V = s.shapes["logits"]![s.shapes["logits"]!.length - 1]!;
  const dl = allocF32(pv.length);
  // d(mean loss)/dlogits = (softmax - onehot) / rows, times the incoming scalar gradient.
  const scale = values(b, inputs["dy"], "dy")[0]! / Math.max(tv.length, 1);
  addon.crossEntropyGrad(pv, tv, dl, V, scale);
  return make(b, s.shapes["logits"]!.slice(), dl);
});

// ---- embedding ----

// Rows of weight [count, dim] picked by int32 indices: out [...indices.shape, dim].
const embedding = define(FusedKernel.Embedding, (b, { inputs, attrs }) => {
  const { weight, indices } = inputs as Record<string, TensorInfo>;
  const [count, dim] = weight!.shape as [number, number];
  const iv = ints(b, indices, "indices");
  const o = allocF32(iv.length * dim);
  const bad = addon.gather(values(b, weight, "weight"), iv, o, 1, count, dim);
  if (bad >= 0) throw new Error(`GatherV2: the index value ${iv[bad]} is not in [0, ${count - 1}]`);
  const s = savedOf(attrs);
  if (s) s.i["indices"] = iv.slice();
  return make(b, [...indices!.shape, dim], o);
});

// dweight [count, dim]: each row of dy added into the row its index names.
const embeddingGrad = define(FusedKernel.EmbeddingGrad, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, FusedKernel.EmbeddingGrad);
  const count = Number(attrs?.["count"]);
  const dim = Number(attrs?.["dim"]);
  const o = allocF32(count * dim);
  addon.segmentSum(values(b, inputs["dy"], "dy"), s.i["indices"]!, o, dim, count);
  return make(b, [count, dim], o);
});

// ---- dropout ----

// tf.dropout(x, 1 - keep, undefined, seed), bit for bit (the addon runs tf.randomUniform's generator);
// the gradient keeps one byte per element.
const dropoutKernel = define(FusedKernel.Dropout, (b, { inputs, attrs }) => {
  const x = inputs["x"]!;
  const xv = values(b, x, "x");
  const y = allocF32(xv.length);
  const mask = allocU8(xv.length);
  addon.dropout(xv, y, mask, Number(attrs?.["seed"]), Number(attrs?.["keep"]));
  const s = savedOf(attrs);
  if (s) {
    s.bytes.push(mask);
    s.u["mask"] = mask;
    s.shapes["x"] = x.shape.slice();
  } else {
    releaseU8(mask);
  }
  return make(b, x.shape.slice(), y);
});

const dropoutGrad = define(FusedKernel.DropoutGrad, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, FusedKernel.DropoutGrad);
  const dv = values(b, inputs["dy"], "dy");
  const o = allocF32(dv.length);
  addon.dropoutGrad(dv, s.u["mask"]!, o, Number(attrs?.["keep"]));
  return make(b, s.shapes["x"]!.slice(), o);
});

// ---- gradients ----

type GradThunks = Record<string, () => tf.Tensor>;

function run(kernelName: string, inputs: Record<string, tf.Tensor>, attrs: NamedAttrMap = {}): tf.Tensor[] {
  const r = tf.engine().runKernel(kernelName, inputs as NamedTensorMap, attrs) as tf.Tensor | tf.Tensor[];
  return Array.isArray(r) ? r : [r];
}

/** Runs a forward kernel; notes its output's id for the gradient (see gradient()). */
function runForward(kernelName: string, inputs: Record<string, tf.Tensor>, attrs: NamedAttrMap): tf.Tensor {
  const out = run(kernelName, inputs, attrs)[0]!;
  const s = savedOf(attrs);
  if (s) s.outId = out.id;
  return out;
}

/**
 * Registers a fused kernel's gradient: gradKernel gets dy and the forward's attrs (with its saved
 * arrays, given back once it ran), and returns the inputs' gradients in the order of `names`.
 *
 * dy is disposed once used when it was made during backprop (its id is larger than the forward output's,
 * so it is not a dy the caller passed to tf.grads): tfjs keeps every intermediate gradient until the
 * whole backward pass ends, and each is read exactly once, by the node that made the tensor it is the
 * gradient of. Freed here, its memory serves the next layer's gradients (a lecture GPT step held
 * gigabytes of spent gradients). Tensors sharing its data keep the data.
 */
function gradient(kernelName: string, gradKernel: string, names: (attrs: NamedAttrMap) => string[]): void {
  tf.registerGradient({
    kernelName,
    gradFunc: (dy, _saved, attrs): GradThunks => {
      const s = gradSaved(attrs, gradKernel);
      const d = dy as tf.Tensor;
      let outs: tf.Tensor[];
      try {
        outs = run(gradKernel, { dy: d }, attrs);
      } finally {
        releaseSaved(s);
      }
      if (s.outId !== undefined && d.id > s.outId) d.dispose();
      const g: GradThunks = {};
      names(attrs).forEach((name, i) => {
        const t = outs[i];
        if (t) g[name] = () => t;
      });
      return g;
    },
  });
}

function registerGradients(): void {
  gradient(FusedKernel.Linear, FusedKernel.LinearGrad, (a) => (a["hasBias"] ? ["x", "weight", "bias"] : ["x", "weight"]));
  gradient(FusedKernel.LayerNorm, FusedKernel.LayerNormGrad, () => ["x", "gamma", "beta"]);
  gradient(FusedKernel.Gelu, FusedKernel.GeluGrad, () => ["x"]);
  gradient(FusedKernel.Attention, FusedKernel.AttentionGrad, () => ["q", "k", "v"]);
  gradient(FusedKernel.MultiHeadAttention, FusedKernel.MultiHeadAttentionGrad, (a) => {
    const { heads, hasBias } = mhaAttrs(a);
    const names = ["x"];
    for (let i = 0; i < 3 * heads; i++) names.push(`w${i}`);
    if (hasBias) for (let i = 0; i < 3 * heads; i++) names.push(`b${i}`);
    return names;
  });
  // Integer targets and indices get no gradient; the engine asks only if they depend on a variable.
  gradient(FusedKernel.CrossEntropy, FusedKernel.CrossEntropyGrad, () => ["logits"]);
  gradient(FusedKernel.Embedding, FusedKernel.EmbeddingGrad, () => ["weight"]);
  gradient(FusedKernel.Dropout, FusedKernel.DropoutGrad, () => ["x"]);
}

let registered = false;

/** Registers the fused kernels on the native backend and their gradients (backend-independent). */
export function registerFusedKernels(a: NativeAddon): void {
  addon = a;
  if (registered) return;
  const kernels = [linear, linearGrad, layerNorm, layerNormGrad, gelu, geluGrad, attention, attentionGrad];
  kernels.push(multiHeadAttention, multiHeadAttentionGrad, crossEntropy, crossEntropyGrad);
  kernels.push(embedding, embeddingGrad, dropoutKernel, dropoutGrad);
  for (const k of kernels) {
    tf.registerKernel(k);
  }
  registerGradients();
  registered = true;
}

/** True when the fused kernels can run on these tensors: the native backend is active, all float32. */
export function canFuse(...ts: Array<tf.Tensor | undefined>): boolean {
  if (!registered || tf.getBackend() !== BACKEND) return false;
  for (const t of ts) if (t && t.dtype !== "float32") return false;
  return true;
}

/** x [..., in] → x W^T + b [..., out]; W is (out, in). */
export function fusedLinear<T extends tf.Tensor>(x: T, weight: tf.Tensor, bias?: tf.Tensor): T {
  const inputs: Record<string, tf.Tensor> = bias ? { x, weight, bias } : { x, weight };
  return runForward(FusedKernel.Linear, inputs, forwardAttrs({ hasBias: bias !== undefined })) as T;
}

/** Layer norm over the last axis. */
export function fusedLayerNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor, beta: tf.Tensor, eps: number): T {
  return runForward(FusedKernel.LayerNorm, { x, gamma, beta }, forwardAttrs({ eps })) as T;
}

export function fusedGelu<T extends tf.Tensor>(x: T): T {
  return runForward(FusedKernel.Gelu, { x }, forwardAttrs({})) as T;
}

/** softmax(mask(q k^T * scale)) v for q, k, v [..., T, D], each position seeing itself and earlier ones. */
export function fusedCausalAttention<T extends tf.Tensor>(q: T, k: T, v: T, scale: number): T {
  return runForward(FusedKernel.Attention, { q, k, v }, forwardAttrs({ scale })) as T;
}

/** The projections of one attention head: (out, in) weights and optional biases. */
export interface HeadWeights {
  readonly query: { readonly weight: tf.Tensor; readonly bias?: tf.Tensor | undefined };
  readonly key: { readonly weight: tf.Tensor; readonly bias?: tf.Tensor | undefined };
  readonly value: { readonly weight: tf.Tensor; readonly bias?: tf.Tensor | undefined };
}

/** True when the heads fit the fused kernel: one head size, biases on all projections or on none. */
export function canFuseHeads(x: tf.Tensor, heads: readonly HeadWeights[]): boolean {
  if (heads.length === 0 || x.rank < 2) return false;
  const D = heads[0]!.query.weight.shape[0]!;
  const withBias = heads[0]!.query.bias !== undefined;
  const C = x.shape[x.rank - 1];
  for (const h of heads) {
    for (const l of [h.query, h.key, h.value]) {
      if (l.weight.shape[0] !== D || l.weight.shape[1] !== C || (l.bias !== undefined) !== withBias) return false;
      if (!canFuse(l.weight, l.bias)) return false;
    }
  }
  return canFuse(x);
}

/**
 * x [..., T, C] → every head's causal attention output, side by side: [..., T, H * headSize]. With
 * dropoutSeeds (one per head) dropout at dropoutRate on each head's attention weights, the values
 * tf.dropout(weights, dropoutRate, undefined, seed) would give.
 */
export function fusedMultiHeadAttention<T extends tf.Tensor>(x: T, heads: readonly HeadWeights[], scale: number, dropoutRate = 0, dropoutSeeds: readonly number[] = []): T {
  const inputs: Record<string, tf.Tensor> = { x };
  const hasBias = heads[0]!.query.bias !== undefined;
  heads.forEach((h, i) => {
    [h.query, h.key, h.value].forEach((l, j) => {
      inputs[`w${3 * i + j}`] = l.weight;
      if (hasBias) inputs[`b${3 * i + j}`] = l.bias!;
    });
  });
  const dropping = dropoutRate > 0;
  if (dropping && dropoutSeeds.length !== heads.length) throw new Error("fusedMultiHeadAttention: one dropout seed per head");
  const attrs = {
    heads: heads.length,
    headSize: heads[0]!.query.weight.shape[0]!,
    scale,
    hasBias,
    keep: dropping ? 1 - dropoutRate : 1,
    seeds: dropping ? dropoutSeeds.slice() : [],
  };
  return runForward(FusedKernel.MultiHeadAttention, inputs, forwardAttrs(attrs)) as T;
}

/** Mean cross-entropy of logits [..., V] against int32 targets [...]. */
export function fusedCrossEntropy(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return runForward(FusedKernel.CrossEntropy, { logits, targets }, forwardAttrs({})) as tf.Scalar;
}

/** weight [count, dim] rows picked by int32 indices: [...indices.shape, dim] (tf.gather on axis 0). */
export function fusedEmbedding(weight: tf.Tensor, indices: tf.Tensor): tf.Tensor {
  const [count, dim] = weight.shape as [number, number];
  return runForward(FusedKernel.Embedding, { weight, indices }, forwardAttrs({ count, dim }));
}

/** tf.dropout(x, rate, undefined, seed): the same values. */
export function fusedDropout<T extends tf.Tensor>(x: T, rate: number, seed: number): T {
  return runForward(FusedKernel.Dropout, { x }, forwardAttrs({ keep: 1 - rate, seed })) as T;
}

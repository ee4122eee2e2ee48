// The native backend's kernels for the ops of runtime/ops (linear, layer norm, RMS norm, GELU, the gated MLP's activation, multi-head causal
// attention, grouped causal attention of projected heads, RoPE, cross-entropy, embedding, dropout, a mixture of experts' MLPs), each with its gradient kernel, registered under the
// ops' names. Written as separate tfjs ops they cost tens of kernel calls each, forward and backward,
// and on a model as small as the baby GPT the engine's work per call (tape, bookkeeping, tensor objects)
// weighs as much as the arithmetic. One kernel forward and one backward per layer removes most of that.
// The multi-head kernel also projects x for all heads with one matrix product instead of three per head.
// Both attention kernels implement the ops' score shaping (a sliding window, ALiBi slopes, a score cap:
// the extensions they declare), so that a shaped spec trains on them rather than on the references.
//
// What a gradient kernel needs travels in the op layer's GradientStash (runtime/ops/op.ts), present in
// the attrs while the tape records: the forward kernel leaves there its inputs' arrays, marked in the
// pool so that they are not recycled when their tensors are disposed (pool.ts's retain), and arrays it
// computed for the purpose; the op layer gives them back once the gradient kernel ran. Outside a gradient
// tape nothing is kept.
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from "@tensorflow/tfjs";
import { tf } from "../nn/tf.js";
import {
  CAUSAL_ATTENTION,
  CROSS_ENTROPY,
  declareExtensions,
  DROPOUT,
  EMBEDDING,
  EXPERT_MIX,
  GATED_ACTIVATION,
  GELU,
  gradientStash,
  LAYER_NORM,
  LINEAR,
  MULTI_HEAD_ATTENTION,
  RMS_NORM,
  ROPE,
  type CausalAttentionAttrs,
  type DropoutAttrs,
  type ExpertMixAttrs,
  type GatedActivationAttrs,
  type LayerNormAttrs,
  type MultiHeadAttentionAttrs,
  type Op,
  type RmsNormAttrs,
  type RopeAttrs,
  type ScoreShaping,
} from "../ops/index.js";
import { GatedActivation, UnaryOp, type NativeAddon, type ShapingArgs } from "./addon.js";
import { allocF32, allocU8, noteReleased, release, releaseU8, retain } from "./pool.js";
import { f32, i32, sizeOf } from "./storage.js";

const BACKEND = "native";

interface Args {
  inputs: NamedTensorInfoMap;
  backend: object;
  attrs?: NamedAttrMap;
}

/** What a forward kernel keeps for its gradient kernel (in the op layer's stash); see the file comment. */
interface Saved {
  /** Input arrays marked with retain(), given back with release(). */
  readonly retained: Float32Array[];
  /** Arrays the kernel allocated for the gradient, freed by it. */
  readonly owned: Float32Array[];
  readonly bytes: Uint8Array[];
  /** Named views of the above, and shapes. */
  readonly f: Record<string, Float32Array>;
  readonly i: Record<string, Int32Array>;
  readonly u: Record<string, Uint8Array>;
  readonly shapes: Record<string, number[]>;
}

/** A holder for what the gradient will read when the tape records this kernel call, else undefined. */
function savedOf(attrs: NamedAttrMap | undefined): Saved | undefined {
  const stash = gradientStash(attrs);
  if (!stash) return undefined;
  const s: Saved = { retained: [], owned: [], bytes: [], f: {}, i: {}, u: {}, shapes: {} };
  stash.kept = s;
  stash.release = () => releaseSaved(s);
  return s;
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

/** c = op(a) x op(b) (+ bias on every row) for single matrices; with accumulate, c += op(a) x op(b) (no bias). */
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
  accumulate = false,
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
  MATMUL[9] = accumulate ? 1 : 0;
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

/** What the forward kernel kept, in the attrs a gradient kernel was given. */
function gradSaved(attrs: NamedAttrMap | undefined, op: Op): Saved {
  const s = gradientStash(attrs)?.kept as Saved | undefined;
  if (!s) throw new Error(`${op.gradName}: the forward kernel kept nothing for its gradient (it ran outside a gradient tape)`);
  return s;
}

// ---- linear ----

// y = x W^T + b over the last axis of x; W is (out, in) as in PyTorch.
const linear = define(LINEAR.name, (b, { inputs, attrs }) => {
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
    if (bias) s.shapes["bias"] = bias.shape.slice();
  }
  return make(b, [...x!.shape.slice(0, -1), nOut], y);
});

// dx = dy W, dW = dy^T x, db = column sums of dy.
const linearGrad = define(LINEAR.gradName!, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, LINEAR);
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
  if (s.shapes["bias"]) {
    const db = allocF32(nOut);
    addon.colSum(dyv, db, nOut, false);
    outs.push(make(b, [nOut], db));
  }
  return outs;
});

// ---- layer norm ----

const layerNorm = define(LAYER_NORM.name, (b, { inputs, attrs }) => {
  const { x, gamma, beta } = inputs as Record<string, TensorInfo>;
  const C = x!.shape[x!.shape.length - 1]!;
  const rows = sizeOf(x!.shape) / C;
  const y = allocF32(rows * C);
  const mean = allocF32(rows);
  const rstd = allocF32(rows);
  const xv = values(b, x, "x");
  const gv = values(b, gamma, "gamma");
  const { eps } = attrs as unknown as LayerNormAttrs;
  addon.layerNorm(xv, gv, values(b, beta, "beta"), y, mean, rstd, C, eps);
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

const layerNormGrad = define(LAYER_NORM.gradName!, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, LAYER_NORM);
  const xShape = s.shapes["x"]!;
  const C = xShape[xShape.length - 1]!;
  const dx = allocF32(sizeOf(xShape));
  const dgamma = allocF32(C);
  const dbeta = allocF32(C);
  addon.layerNormGrad(s.f["x"]!, s.f["gamma"]!, s.f["mean"]!, s.f["rstd"]!, values(b, inputs["dy"], "dy"), dx, dgamma, dbeta, C);
  return [make(b, xShape.slice(), dx), make(b, [C], dgamma), make(b, [C], dbeta)];
});

// ---- RMS norm ----

const rmsNorm = define(RMS_NORM.name, (b, { inputs, attrs }) => {
  const { x, gamma } = inputs as Record<string, TensorInfo>;
  const C = x!.shape[x!.shape.length - 1]!;
  const rows = sizeOf(x!.shape) / C;
  const y = allocF32(rows * C);
  const rstd = allocF32(rows);
  const xv = values(b, x, "x");
  const gv = values(b, gamma, "gamma");
  const { eps } = attrs as unknown as RmsNormAttrs;
  addon.rmsNorm(xv, gv, y, rstd, C, eps);
  const s = savedOf(attrs);
  if (s) {
    keepInput(s, "x", xv, x!.shape);
    keepInput(s, "gamma", gv, gamma!.shape);
    keepOwned(s, "rstd", rstd);
  } else {
    noteReleased(rstd);
  }
  return make(b, x!.shape.slice(), y);
});

const rmsNormGrad = define(RMS_NORM.gradName!, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, RMS_NORM);
  const xShape = s.shapes["x"]!;
  const C = xShape[xShape.length - 1]!;
  const dx = allocF32(sizeOf(xShape));
  const dgamma = allocF32(C);
  addon.rmsNormGrad(s.f["x"]!, s.f["gamma"]!, s.f["rstd"]!, values(b, inputs["dy"], "dy"), dx, dgamma, C);
  return [make(b, xShape.slice(), dx), make(b, [C], dgamma)];
});

// ---- GELU ----

const gelu = define(GELU.name, (b, { inputs, attrs }) => {
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
const geluGrad = define(GELU.gradName!, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, GELU);
  const xv = s.f["x"]!;
  const dx = allocF32(xv.length);
  addon.geluGrad(xv, values(b, inputs["dy"], "dy"), dx);
  return make(b, s.shapes["x"]!.slice(), dx);
});

// ---- the gated MLP's activation ----

const gatedActivation = define(GATED_ACTIVATION.name, (b, { inputs, attrs }) => {
  const { gate, up } = inputs as Record<string, TensorInfo>;
  if (gate!.shape.join() !== up!.shape.join()) throw new Error(`native fused kernel: gate [${gate!.shape}] and up [${up!.shape}] differ in shape`);
  const gv = values(b, gate, "gate");
  const uv = values(b, up, "up");
  const y = allocF32(gv.length);
  addon.gatedActivation(gv, uv, y, GatedActivation[(attrs as unknown as GatedActivationAttrs).activation]);
  const s = savedOf(attrs);
  if (s) {
    keepInput(s, "gate", gv, gate!.shape);
    keepInput(s, "up", uv, up!.shape);
  }
  return make(b, gate!.shape.slice(), y);
});

// Like GELU's, the activation is recomputed from the gate rather than kept from the forward pass.
const gatedActivationGrad = define(GATED_ACTIVATION.gradName!, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, GATED_ACTIVATION);
  const gv = s.f["gate"]!;
  const dgate = allocF32(gv.length);
  const dup = allocF32(gv.length);
  addon.gatedActivationGrad(gv, s.f["up"]!, values(b, inputs["dy"], "dy"), dgate, dup, GatedActivation[(attrs as unknown as GatedActivationAttrs).activation]);
  return [make(b, s.shapes["gate"]!.slice(), dgate), make(b, s.shapes["up"]!.slice(), dup)];
});

// ---- attention ----

function mhaAttrs(attrs: NamedAttrMap | undefined): MultiHeadAttentionAttrs {
  return attrs as unknown as MultiHeadAttentionAttrs;
}

/** Both attention ops implement their score shaping (a window, ALiBi slopes, a cap) in the kernels. */
const SHAPING_EXTENSIONS = ["window", "alibiSlopes", "softcap"] as const;

/**
 * The score shaping's arguments to an attention binding (addon.ts ShapingArgs). capGrad is the cap's
 * derivative at every weight (n of them), which the gradient reads: allocated by the forward kernel where
 * there is a cap and a gradient will run (`keep`), else null.
 */
function shapingArgs(shaping: ScoreShaping, n: number, keep: boolean): ShapingArgs {
  const slopes = shaping.alibiSlopes.length > 0 ? Float64Array.from(shaping.alibiSlopes) : null;
  return [shaping.window, slopes, shaping.softcap, keep && shaping.softcap > 0 ? allocF32(n) : null];
}

/** The forward call's shaping arguments again, for its gradient, with the capGrad it kept. */
function savedShaping(s: Saved, shaping: ScoreShaping): ShapingArgs {
  const slopes = shaping.alibiSlopes.length > 0 ? Float64Array.from(shaping.alibiSlopes) : null;
  return [shaping.window, slopes, shaping.softcap, s.f["capGrad"] ?? null];
}

/** Keeps the capGrad a forward call wrote for its gradient (or frees it when no gradient follows). */
function keepCapGrad(s: Saved | undefined, shaping: ShapingArgs): void {
  const capGrad = shaping.length === 4 ? shaping[3] : null;
  if (!capGrad) return;
  if (s) keepOwned(s, "capGrad", capGrad);
  else noteReleased(capGrad);
}

// All heads of a multi-head causal self-attention, from x and every head's projections: inputs x, w0..,
// b0.. in the order q0, k0, v0, q1, ... One GEMM projects x to every head's q, k and v at once (instead
// of 3 per head); the heads' outputs come out side by side, already concatenated. With a dropout rate,
// each head's keep flags for its attention weights are drawn as tf.dropout draws them from its seed.
// Keeps for the gradient: x, the projections qkv [rows, 3HD], the weights p [B, H, T, T] (before
// dropout), the stacked weights and the keep flags.
const multiHeadAttention = define(MULTI_HEAD_ATTENTION.name, (b, { inputs, attrs }) => {
  const { heads: H, headSize: D, scale, dropoutRate, seeds } = mhaAttrs(attrs);
  const keep = 1 - dropoutRate;
  const hasBias = inputs["b0"] !== undefined;
  const recording = gradientStash(attrs) !== undefined;
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
  if (dropoutRate > 0) {
    mask = allocU8(B * H * T * T);
    addon.headDropoutMasks(Float64Array.from(seeds), mask, B, H, T, keep);
  }
  const shaping = shapingArgs(mhaAttrs(attrs), B * H * T * T, recording);
  addon.mhaAttentionDropout(qkv, o, p, mask, keep, B, T, H, D, scale, ...shaping);
  const s = savedOf(attrs);
  keepCapGrad(s, shaping);
  if (s) {
    keepInput(s, "x", xv, x.shape);
    if (hasBias) s.shapes["bias"] = [W];
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
const multiHeadAttentionGrad = define(MULTI_HEAD_ATTENTION.gradName!, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, MULTI_HEAD_ATTENTION);
  const { heads: H, headSize: D, scale, dropoutRate } = mhaAttrs(attrs);
  const keep = 1 - dropoutRate;
  const hasBias = s.shapes["bias"] !== undefined;
  const xShape = s.shapes["x"]!;
  const C = xShape[xShape.length - 1]!;
  const T = xShape[xShape.length - 2]!;
  const rows = sizeOf(xShape) / C;
  const B = rows / T;
  const W = 3 * H * D;
  const dqkv = allocF32(rows * W);
  const scratch = allocF32(T * T);
  addon.mhaAttentionDropoutGrad(s.f["qkv"]!, s.f["p"]!, s.u["mask"] ?? null, keep, values(b, inputs["dy"], "dy"), dqkv, scratch, B, T, H, D, scale, ...savedShaping(s, mhaAttrs(attrs)));
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

// Causal attention of heads already projected (q (B, H, Tq, hs), k and v (B, KV, Tk, hs)), grouped-query
// heads and a KV cache's longer keys included. With a dropout rate the keep flags are drawn from the seed
// over the whole (B, H, Tq, Tk) tensor, as the reference's dropout(wei, rate, seed) draws them. Keeps
// for the gradient: q, k, v, the weights before dropout and the keep flags.
const causalAttention = define(CAUSAL_ATTENTION.name, (b, { inputs, attrs }) => {
  const { q, k, v } = inputs as Record<string, TensorInfo>;
  const { scale, dropoutRate, seed } = attrs as unknown as CausalAttentionAttrs;
  const [B, H, Tq, D] = q!.shape as [number, number, number, number];
  const [, KV, Tk] = k!.shape as [number, number, number, number];
  const params = Int32Array.of(B, H, KV, Tq, Tk, D);
  const keep = 1 - dropoutRate;
  const qv = values(b, q, "q");
  const kv = values(b, k, "k");
  const vv = values(b, v, "v");
  const out = allocF32(B * H * Tq * D);
  const p = allocF32(B * H * Tq * Tk);
  let mask: Uint8Array | null = null;
  if (dropoutRate > 0) {
    mask = allocU8(B * H * Tq * Tk);
    addon.dropoutMask(mask, seed, keep);
  }
  const shaping = shapingArgs(attrs as unknown as CausalAttentionAttrs, B * H * Tq * Tk, gradientStash(attrs) !== undefined);
  addon.causalAttention(qv, kv, vv, out, p, mask, keep, params, scale, ...shaping);
  const s = savedOf(attrs);
  keepCapGrad(s, shaping);
  if (s) {
    keepInput(s, "q", qv, q!.shape);
    keepInput(s, "k", kv, k!.shape);
    keepInput(s, "v", vv, v!.shape);
    keepOwned(s, "p", p);
    if (mask) {
      s.bytes.push(mask);
      s.u["mask"] = mask;
    }
  } else {
    noteReleased(p);
    if (mask) releaseU8(mask);
  }
  return make(b, q!.shape.slice(), out);
});

const causalAttentionGrad = define(CAUSAL_ATTENTION.gradName!, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, CAUSAL_ATTENTION);
  const { scale, dropoutRate } = attrs as unknown as CausalAttentionAttrs;
  const qShape = s.shapes["q"]!;
  const kShape = s.shapes["k"]!;
  const [B, H, Tq, D] = qShape as [number, number, number, number];
  const [, KV, Tk] = kShape as [number, number, number, number];
  const dq = allocF32(B * H * Tq * D);
  const dk = allocF32(B * KV * Tk * D);
  const dv = allocF32(B * KV * Tk * D);
  const dout = values(b, inputs["dy"], "dy");
  const shaping = savedShaping(s, attrs as unknown as CausalAttentionAttrs);
  addon.causalAttentionGrad(s.f["q"]!, s.f["k"]!, s.f["v"]!, s.f["p"]!, s.u["mask"] ?? null, 1 - dropoutRate, dout, dq, dk, dv, Int32Array.of(B, H, KV, Tq, Tk, D), scale, ...shaping);
  return [make(b, qShape.slice(), dq), make(b, kShape.slice(), dk), make(b, s.shapes["v"]!.slice(), dv)];
});

// ---- rotary position embedding ----

// The gradient is the inverse rotation of dy; the tables are constants (the model's buffers), given no
// gradient.
const rope = define(ROPE.name, (b, { inputs, attrs }) => {
  const { x, cos, sin } = inputs as Record<string, TensorInfo>;
  const [B, H, T, hs] = x!.shape as [number, number, number, number];
  const [P, half] = cos!.shape as [number, number];
  const params = Int32Array.of(B * H, T, hs, P, half, (attrs as unknown as RopeAttrs).offset);
  const cv = values(b, cos, "cos");
  const sv = values(b, sin, "sin");
  const y = allocF32(B * H * T * hs);
  addon.rope(values(b, x, "x"), cv, sv, y, params, false);
  const s = savedOf(attrs);
  if (s) {
    keepInput(s, "cos", cv, cos!.shape);
    keepInput(s, "sin", sv, sin!.shape);
    s.shapes["x"] = x!.shape.slice();
    s.i["params"] = params;
  }
  return make(b, x!.shape.slice(), y);
});

const ropeGrad = define(ROPE.gradName!, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, ROPE);
  const xShape = s.shapes["x"]!;
  const dx = allocF32(sizeOf(xShape));
  addon.rope(values(b, inputs["dy"], "dy"), s.f["cos"]!, s.f["sin"]!, dx, s.i["params"]!, true);
  return make(b, xShape.slice(), dx);
});

// ---- cross-entropy ----

const crossEntropy = define(CROSS_ENTROPY.name, (b, { inputs, attrs }) => {
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

const crossEntropyGrad = define(CROSS_ENTROPY.gradName!, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, CROSS_ENTROPY);
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
const embedding = define(EMBEDDING.name, (b, { inputs, attrs }) => {
  const { weight, indices } = inputs as Record<string, TensorInfo>;
  const [count, dim] = weight!.shape as [number, number];
  const iv = ints(b, indices, "indices");
  const o = allocF32(iv.length * dim);
  const bad = addon.gather(values(b, weight, "weight"), iv, o, 1, count, dim);
  if (bad >= 0) throw new Error(`GatherV2: the index value ${iv[bad]} is not in [0, ${count - 1}]`);
  const s = savedOf(attrs);
  if (s) {
    s.i["indices"] = iv.slice();
    s.shapes["weight"] = [count, dim];
  }
  return make(b, [...indices!.shape, dim], o);
});

// dweight [count, dim]: each row of dy added into the row its index names.
const embeddingGrad = define(EMBEDDING.gradName!, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, EMBEDDING);
  const [count, dim] = s.shapes["weight"] as [number, number];
  const o = allocF32(count * dim);
  addon.segmentSum(values(b, inputs["dy"], "dy"), s.i["indices"]!, o, dim, count);
  return make(b, [count, dim], o);
});

// ---- dropout ----

// tf.dropout(x, rate, undefined, seed), bit for bit (the addon runs tf.randomUniform's generator);
// the gradient keeps one byte per element.
const dropoutKernel = define(DROPOUT.name, (b, { inputs, attrs }) => {
  const x = inputs["x"]!;
  const xv = values(b, x, "x");
  const y = allocF32(xv.length);
  const mask = allocU8(xv.length);
  const { rate, seed } = attrs as unknown as DropoutAttrs;
  addon.dropout(xv, y, mask, seed, 1 - rate);
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

const dropoutGrad = define(DROPOUT.gradName!, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, DROPOUT);
  const dv = values(b, inputs["dy"], "dy");
  const o = allocF32(dv.length);
  addon.dropoutGrad(dv, s.u["mask"]!, o, 1 - (attrs as unknown as DropoutAttrs).rate);
  return make(b, s.shapes["x"]!.slice(), o);
});

// ---- a mixture of experts ----

// Each expert runs on its own tokens: the (token, choice) pairs are grouped by expert (experts in index
// order, each one's tokens in token order), x's rows gathered into that order, and each expert's MLP is
// two or three products on its block of rows; expertCombine sums each token's K outputs, weighted, back
// onto its row. Keeps for the gradient: the grouping, the gathered rows, each expert's up projection (and
// gate), activation and output rows, the weights, and the experts' matrices.

interface ExpertGroups {
  /** [N·K]: the row of token n's k-th choice. */
  readonly pos: Int32Array;
  /** [N·K]: the token of each row. */
  readonly token: Int32Array;
  /** [E + 1]: where each expert's rows begin. */
  readonly start: Int32Array;
}

function groupByExpert(chosen: Int32Array, E: number, K: number): ExpertGroups {
  const start = new Int32Array(E + 1);
  for (let i = 0; i < chosen.length; i++) {
    const e = chosen[i]!;
    if (!(e >= 0 && e < E)) throw new Error(`native fused kernel: expertMix chose expert ${e}, of ${E}`);
    start[e + 1]!++;
  }
  for (let e = 0; e < E; e++) start[e + 1]! += start[e]!;
  const next = start.slice(0, E);
  const pos = new Int32Array(chosen.length);
  const token = new Int32Array(chosen.length);
  for (let i = 0; i < chosen.length; i++) {
    const row = next[chosen[i]!]!++;
    pos[i] = row;
    token[row] = Math.floor(i / K);
  }
  return { pos, token, start };
}

function expertMixAttrs(attrs: NamedAttrMap | undefined): ExpertMixAttrs {
  return attrs as unknown as ExpertMixAttrs;
}

const expertMix = define(EXPERT_MIX.name, (b, { inputs, attrs }) => {
  const { experts: E, topK: K, hidden: H, activation, gated, bias } = expertMixAttrs(attrs);
  const code = GatedActivation[activation];
  const per = gated ? 3 : 2; // matrices per expert: (gate,) fc, proj
  const x = inputs["x"]!;
  const C = x.shape[x.shape.length - 1]!;
  const N = sizeOf(x.shape) / C;
  const M = N * K;
  const xv = values(b, x, "x");
  const wv = values(b, inputs["weights"], "weights");
  const g = groupByExpert(ints(b, inputs["chosen"], "chosen"), E, K);
  const w = (e: number, j: number): Float32Array => values(b, inputs[`w${e * per + j}`], "an expert's weight");
  const bv = (e: number, j: number): Float32Array | null => (bias ? values(b, inputs[`b${e * per + j}`], "an expert's bias") : null);
  const xs = allocF32(M * C);
  addon.gather(xv, g.token, xs, 1, N, C);
  const up = allocF32(M * H);
  const gate = gated ? allocF32(M * H) : null;
  const act = allocF32(M * H);
  const o = allocF32(M * C);
  for (let e = 0; e < E; e++) {
    const r0 = g.start[e]!;
    const rows = g.start[e + 1]! - r0;
    if (rows === 0) continue;
    const xe = xs.subarray(r0 * C, (r0 + rows) * C);
    const upE = up.subarray(r0 * H, (r0 + rows) * H);
    const actE = act.subarray(r0 * H, (r0 + rows) * H);
    if (gate) {
      const gateE = gate.subarray(r0 * H, (r0 + rows) * H);
      gemm(xe, w(e, 0), gateE, bv(e, 0), rows, H, C, false, true);
      gemm(xe, w(e, 1), upE, bv(e, 1), rows, H, C, false, true);
      addon.gatedActivation(gateE, upE, actE, code);
    } else {
      gemm(xe, w(e, 0), upE, bv(e, 0), rows, H, C, false, true);
      addon.mlpActivation(upE, actE, code);
    }
    gemm(actE, w(e, per - 1), o.subarray(r0 * C, (r0 + rows) * C), bv(e, per - 1), rows, C, H, false, true);
  }
  const y = allocF32(N * C);
  addon.expertCombine(o, g.pos, wv, y, K, C);
  const s = savedOf(attrs);
  if (s) {
    keepInput(s, "weights", wv, inputs["weights"]!.shape);
    for (let i = 0; i < E * per; i++) keepInput(s, `w${i}`, values(b, inputs[`w${i}`], "an expert's weight"), inputs[`w${i}`]!.shape);
    keepOwned(s, "xs", xs);
    keepOwned(s, "up", up);
    if (gate) keepOwned(s, "gate", gate);
    keepOwned(s, "act", act);
    keepOwned(s, "o", o);
    s.i["pos"] = g.pos;
    s.i["start"] = g.start;
    s.shapes["x"] = x.shape.slice();
  } else {
    for (const a of [xs, up, gate, act, o]) if (a) noteReleased(a);
  }
  return make(b, x.shape.slice(), y);
});

// Back through the weighted sum (expertCombineGrad: each row's share of dy, and each weight's gradient),
// then each expert's MLP on its rows, and the rows' dx summed back onto their tokens.
const expertMixGrad = define(EXPERT_MIX.gradName!, (b, { inputs, attrs }) => {
  const s = gradSaved(attrs, EXPERT_MIX);
  const { experts: E, topK: K, hidden: H, activation, gated, bias } = expertMixAttrs(attrs);
  const code = GatedActivation[activation];
  const per = gated ? 3 : 2;
  const xShape = s.shapes["x"]!;
  const C = xShape[xShape.length - 1]!;
  const N = sizeOf(xShape) / C;
  const M = N * K;
  const pos = s.i["pos"]!;
  const start = s.i["start"]!;
  const dO = allocF32(M * C);
  const dweights = allocF32(N * K);
  addon.expertCombineGrad(s.f["o"]!, pos, s.f["weights"]!, values(b, inputs["dy"], "dy"), dO, dweights, K, C);
  const xs = s.f["xs"]!;
  const up = s.f["up"]!;
  const gate = s.f["gate"];
  const act = s.f["act"]!;
  const dXs = allocF32(M * C);
  const dAct = allocF32(M * H);
  const dUp = allocF32(M * H);
  const dGate = gated ? allocF32(M * H) : null;
  const dW: Float32Array[] = [];
  const dB: Float32Array[] = [];
  for (let e = 0; e < E; e++) {
    const wOf = (j: number): Float32Array => s.f[`w${e * per + j}`]!;
    const sizes = gated ? [H * C, H * C, C * H] : [H * C, C * H];
    const dWe = sizes.map((n) => allocF32(n));
    const dBe = bias ? (gated ? [H, H, C] : [H, C]).map((n) => allocF32(n)) : [];
    dW.push(...dWe);
    dB.push(...dBe);
    const r0 = start[e]!;
    const rows = start[e + 1]! - r0;
    if (rows === 0) {
      // No token chose this expert: nothing reached its weights.
      for (const a of [...dWe, ...dBe]) a.fill(0);
      continue;
    }
    const span = (a: Float32Array, width: number): Float32Array => a.subarray(r0 * width, (r0 + rows) * width);
    const dOe = span(dO, C);
    const xe = span(xs, C);
    const dActE = span(dAct, H);
    const dUpE = span(dUp, H);
    const dXe = span(dXs, C);
    const proj = per - 1;
    const fc = per - 2;
    gemm(dOe, wOf(proj), dActE, null, rows, H, C, false, false); // d act = dO · proj
    gemm(dOe, span(act, H), dWe[proj]!, null, C, H, rows, true, false); // d proj = dOᵀ · act
    if (bias) addon.colSum(dOe, dBe[proj]!, C, false);
    if (gate && dGate) {
      const dGateE = span(dGate, H);
      addon.gatedActivationGrad(span(gate, H), span(up, H), dActE, dGateE, dUpE, code);
      gemm(dGateE, xe, dWe[0]!, null, H, C, rows, true, false);
      if (bias) addon.colSum(dGateE, dBe[0]!, H, false);
      gemm(dGateE, wOf(0), dXe, null, rows, C, H, false, false);
    } else {
      addon.mlpActivationGrad(span(up, H), dActE, dUpE, code);
    }
    gemm(dUpE, xe, dWe[fc]!, null, H, C, rows, true, false); // d fc = d upᵀ · x
    if (bias) addon.colSum(dUpE, dBe[fc]!, H, false);
    gemm(dUpE, wOf(fc), dXe, null, rows, C, H, false, false, gated); // dx rows (+)= d up · fc
  }
  const dx = allocF32(N * C);
  addon.expertCombine(dXs, pos, null, dx, K, C);
  for (const a of [dO, dXs, dAct, dUp, dGate]) if (a) noteReleased(a);
  const wShapes = (gated ? [[H, C], [H, C], [C, H]] : [[H, C], [C, H]]) as number[][];
  const bShapes = (gated ? [[H], [H], [C]] : [[H], [C]]) as number[][];
  return [
    make(b, xShape.slice(), dx),
    make(b, s.shapes["weights"]!.slice(), dweights),
    ...dW.map((a, i) => make(b, wShapes[i % per]!.slice(), a)),
    ...dB.map((a, i) => make(b, bShapes[i % per]!.slice(), a)),
  ];
});

let registered = false;

/** Registers the ops' kernels on the native backend (their gradients are the op layer's). */
export function registerFusedKernels(a: NativeAddon): void {
  addon = a;
  if (registered) return;
  const kernels = [linear, linearGrad, layerNorm, layerNormGrad, rmsNorm, rmsNormGrad, gelu, geluGrad, multiHeadAttention, multiHeadAttentionGrad];
  kernels.push(gatedActivation, gatedActivationGrad, causalAttention, causalAttentionGrad, rope, ropeGrad);
  kernels.push(crossEntropy, crossEntropyGrad, embedding, embeddingGrad, dropoutKernel, dropoutGrad, expertMix, expertMixGrad);
  for (const k of kernels) tf.registerKernel(k);
  declareExtensions(MULTI_HEAD_ATTENTION, BACKEND, SHAPING_EXTENSIONS);
  declareExtensions(CAUSAL_ATTENTION, BACKEND, SHAPING_EXTENSIONS);
  registered = true;
}

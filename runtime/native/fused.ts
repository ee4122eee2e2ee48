// Fused kernels of the native backend, each with its gradient: a linear layer, layer normalization,
// GELU, causal self-attention (one head, or all heads of a layer at once) and the cross-entropy loss.
// Written as separate tfjs ops they cost tens of kernel calls each, forward and backward, and on a model
// as small as the baby GPT the engine's work per call (tape, bookkeeping, tensor objects) weighs as much
// as the arithmetic. One kernel forward and one backward per layer removes most of that. The multi-head
// kernel also projects x for all heads with one matrix product instead of three per head.
//
// The kernels exist only on the native backend. The functions at the end (fusedLinear, ...) run them;
// the runtime/nn building blocks call those when the native backend is active and keep their plain-tfjs
// code for every other backend (see runtime/nn/functional.ts and linear.ts).
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
import { allocF32, noteReleased } from "./pool.js";
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
} as const;

interface Args {
  inputs: NamedTensorInfoMap;
  backend: object;
  attrs?: NamedAttrMap;
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
  MATMUL.set([1, 1, 1, M, N, K, transA ? 1 : 0, transB ? 1 : 0, 0, 0]);
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

// y = x W^T + b over the last axis of x; W is (out, in) as in PyTorch.
const linear = define(FusedKernel.Linear, (b, { inputs }) => {
  const { x, weight, bias } = inputs as Record<string, TensorInfo | undefined>;
  const [nOut, nIn] = weight!.shape as [number, number];
  if (x!.shape[x!.shape.length - 1] !== nIn) throw new Error(`linear: input width ${x!.shape} does not match weight ${weight!.shape}`);
  const rows = sizeOf(x!.shape) / nIn;
  const y = allocF32(rows * nOut);
  gemm(values(b, x, "x"), values(b, weight, "weight"), y, bias ? values(b, bias, "bias") : null, rows, nOut, nIn, false, true);
  return make(b, [...x!.shape.slice(0, -1), nOut], y);
});

// dx = dy W, dW = dy^T x, db = column sums of dy.
const linearGrad = define(FusedKernel.LinearGrad, (b, { inputs, attrs }) => {
  const { dy, x, weight } = inputs as Record<string, TensorInfo>;
  const [nOut, nIn] = weight!.shape as [number, number];
  const rows = sizeOf(x!.shape) / nIn;
  const dyv = values(b, dy, "dy");
  const dx = allocF32(rows * nIn);
  const dw = allocF32(nOut * nIn);
  gemm(dyv, values(b, weight, "weight"), dx, null, rows, nIn, nOut, false, false);
  gemm(dyv, values(b, x, "x"), dw, null, nOut, nIn, rows, true, false);
  const outs = [make(b, x!.shape.slice(), dx), make(b, [nOut, nIn], dw)];
  if (attrs?.["hasBias"]) {
    const db = allocF32(nOut);
    addon.colSum(dyv, db, nOut, false);
    outs.push(make(b, [nOut], db));
  }
  return outs;
});

const layerNorm = define(FusedKernel.LayerNorm, (b, { inputs, attrs }) => {
  const { x, gamma, beta } = inputs as Record<string, TensorInfo>;
  const C = x!.shape[x!.shape.length - 1]!;
  const rows = sizeOf(x!.shape) / C;
  const y = allocF32(rows * C);
  const mean = allocF32(rows);
  const rstd = allocF32(rows);
  addon.layerNorm(values(b, x, "x"), values(b, gamma, "gamma"), values(b, beta, "beta"), y, mean, rstd, C, Number(attrs?.["eps"]));
  const statShape = x!.shape.slice(0, -1);
  return [make(b, x!.shape.slice(), y), make(b, statShape, mean), make(b, statShape.slice(), rstd)];
});

const layerNormGrad = define(FusedKernel.LayerNormGrad, (b, { inputs }) => {
  const { x, gamma, mean, rstd, dy } = inputs as Record<string, TensorInfo>;
  const C = x!.shape[x!.shape.length - 1]!;
  const dx = allocF32(sizeOf(x!.shape));
  const dgamma = allocF32(C);
  const dbeta = allocF32(C);
  addon.layerNormGrad(
    values(b, x, "x"),
    values(b, gamma, "gamma"),
    values(b, mean, "mean"),
    values(b, rstd, "rstd"),
    values(b, dy, "dy"),
    dx,
    dgamma,
    dbeta,
    C,
  );
  return [make(b, x!.shape.slice(), dx), make(b, [C], dgamma), make(b, [C], dbeta)];
});

const gelu = define(FusedKernel.Gelu, (b, { inputs }) => {
  const x = inputs["x"]!;
  const xv = values(b, x, "x");
  const y = allocF32(xv.length);
  addon.unary(UnaryOp.Gelu, xv, y, 0);
  return make(b, x.shape.slice(), y);
});

const geluGrad = define(FusedKernel.GeluGrad, (b, { inputs }) => {
  const { x, dy } = inputs as Record<string, TensorInfo>;
  const xv = values(b, x, "x");
  const dx = allocF32(xv.length);
  addon.geluGrad(xv, values(b, dy, "dy"), dx);
  return make(b, x!.shape.slice(), dx);
});

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
  addon.attention(values(b, q, "q"), values(b, k, "k"), values(b, v, "v"), o, p, B, T, D, Number(attrs?.["scale"]));
  return [make(b, q!.shape.slice(), o), make(b, [...q!.shape.slice(0, -1), T], p)];
});

const attentionGrad = define(FusedKernel.AttentionGrad, (b, { inputs, attrs }) => {
  const { q, k, v, p, dy } = inputs as Record<string, TensorInfo>;
  const [B, T, D] = btd(q!.shape);
  const n = B * T * D;
  const dq = allocF32(n);
  const dk = allocF32(n);
  const dv = allocF32(n);
  const scratch = allocF32(T * T);
  addon.attentionGrad(
    values(b, q, "q"),
    values(b, k, "k"),
    values(b, v, "v"),
    values(b, p, "p"),
    values(b, dy, "dy"),
    dq,
    dk,
    dv,
    scratch,
    B,
    T,
    D,
    Number(attrs?.["scale"]),
  );
  noteReleased(scratch);
  return [make(b, q!.shape.slice(), dq), make(b, k!.shape.slice(), dk), make(b, v!.shape.slice(), dv)];
});

interface MhaAttrs {
  heads: number;
  headSize: number;
  scale: number;
  hasBias: boolean;
}

function mhaAttrs(attrs: NamedAttrMap | undefined): MhaAttrs {
  return attrs as unknown as MhaAttrs;
}

// All heads of a multi-head causal self-attention, from x and every head's projections: inputs x, w0..,
// b0.. in the order q0, k0, v0, q1, ... One GEMM projects x to every head's q, k and v at once (instead
// of 3 per head); the heads' outputs come out side by side, already concatenated. Also outputs, for the
// gradient: the projections qkv [rows, 3HD], the probabilities p [B, H, T, T] and the stacked weights.
const multiHeadAttention = define(FusedKernel.MultiHeadAttention, (b, { inputs, attrs }) => {
  const { heads: H, headSize: D, scale, hasBias } = mhaAttrs(attrs);
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
  const qkv = allocF32(rows * W);
  gemm(values(b, x, "x"), wcat, qkv, bcat, rows, W, C, false, true);
  if (bcat) noteReleased(bcat);
  const o = allocF32(rows * H * D);
  const p = allocF32(B * H * T * T);
  addon.mhaAttention(qkv, o, p, B, T, H, D, scale);
  return [
    make(b, [...x.shape.slice(0, -1), H * D], o),
    make(b, [rows, W], qkv),
    make(b, [B, H, T, T], p),
    make(b, [W, C], wcat),
  ];
});

// dx = dqkv W, and each head's dW (rows of dqkv^T x) and db (column sums of dqkv).
const multiHeadAttentionGrad = define(FusedKernel.MultiHeadAttentionGrad, (b, { inputs, attrs }) => {
  const { heads: H, headSize: D, scale, hasBias } = mhaAttrs(attrs);
  const { x, qkv, p, wcat, dy } = inputs as Record<string, TensorInfo>;
  const C = x!.shape[x!.shape.length - 1]!;
  const T = x!.shape[x!.shape.length - 2]!;
  const rows = sizeOf(x!.shape) / C;
  const B = rows / T;
  const W = 3 * H * D;
  const dqkv = allocF32(rows * W);
  const scratch = allocF32(T * T);
  addon.mhaAttentionGrad(values(b, qkv, "qkv"), values(b, p, "p"), values(b, dy, "dy"), dqkv, scratch, B, T, H, D, scale);
  noteReleased(scratch);
  const dx = allocF32(rows * C);
  gemm(dqkv, values(b, wcat, "wcat"), dx, null, rows, C, W, false, false);
  const dw = allocF32(W * C);
  gemm(dqkv, values(b, x, "x"), dw, null, W, C, rows, true, false);
  const outs = [make(b, x!.shape.slice(), dx)];
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

const crossEntropy = define(FusedKernel.CrossEntropy, (b, { inputs }) => {
  const { logits, targets } = inputs as Record<string, TensorInfo>;
  const V = logits!.shape[logits!.shape.length - 1]!;
  const lv = values(b, logits, "logits");
  const probs = allocF32(lv.length);
  const loss = addon.crossEntropy(lv, ints(b, targets, "targets"), probs, V);
  return [make(b, [], Float32Array.of(loss)), make(b, logits!.shape.slice(), probs)];
});

const crossEntropyGrad = define(FusedKernel.CrossEntropyGrad, (b, { inputs }) => {
  const { probs, targets, dy } = inputs as Record<string, TensorInfo>;
  const V = probs!.shape[probs!.shape.length - 1]!;
  const pv = values(b, probs, "probs");
  const tv = ints(b, targets, "targets");
  const dl = allocF32(pv.length);
  // d(mean loss)/dlogits = (softmax - onehot) / rows, times the incoming scalar gradient.
  const scale = values(b, dy, "dy")[0]! / Math.max(tv.length, 1);
  addon.crossEntropyGrad(pv, tv, dl, V, scale);
  return [make(b, probs!.shape.slice(), dl)];
});

type GradThunks = Record<string, () => tf.Tensor>;

function run(kernelName: string, inputs: Record<string, tf.Tensor>, attrs: NamedAttrMap = {}): tf.Tensor[] {
  const r = tf.engine().runKernel(kernelName, inputs as NamedTensorMap, attrs) as tf.Tensor | tf.Tensor[];
  return Array.isArray(r) ? r : [r];
}

function registerGradients(): void {
  tf.registerGradient({
    kernelName: FusedKernel.Linear,
    inputsToSave: ["x", "weight"],
    gradFunc: (dy, saved, attrs): GradThunks => {
      const [x, weight] = saved as [tf.Tensor, tf.Tensor];
      const hasBias = Boolean(attrs["hasBias"]);
      const [dx, dw, db] = run(FusedKernel.LinearGrad, { dy: dy as tf.Tensor, x, weight }, { hasBias });
      const g: GradThunks = { x: () => dx!, weight: () => dw! };
      if (hasBias) g["bias"] = () => db!;
      return g;
    },
  });
  tf.registerGradient({
    kernelName: FusedKernel.LayerNorm,
    inputsToSave: ["x", "gamma"],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved): GradThunks => {
      const [x, gamma, mean, rstd] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const dy = (dys as tf.Tensor[])[0]!;
      const [dx, dgamma, dbeta] = run(FusedKernel.LayerNormGrad, { x, gamma, mean, rstd, dy });
      return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
    },
  });
  tf.registerGradient({
    kernelName: FusedKernel.Gelu,
    inputsToSave: ["x"],
    gradFunc: (dy, saved): GradThunks => {
      const [x] = saved as [tf.Tensor];
      return { x: () => run(FusedKernel.GeluGrad, { x, dy: dy as tf.Tensor })[0]! };
    },
  });
  tf.registerGradient({
    kernelName: FusedKernel.Attention,
    inputsToSave: ["q", "k", "v"],
    outputsToSave: [false, true],
    gradFunc: (dys, saved, attrs): GradThunks => {
      const [q, k, v, p] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const dy = (dys as tf.Tensor[])[0]!;
      const [dq, dk, dv] = run(FusedKernel.AttentionGrad, { q, k, v, p, dy }, { scale: attrs["scale"] as number });
      return { q: () => dq!, k: () => dk!, v: () => dv! };
    },
  });
  tf.registerGradient({
    kernelName: FusedKernel.MultiHeadAttention,
    inputsToSave: ["x"],
    outputsToSave: [false, true, true, true],
    gradFunc: (dys, saved, attrs): GradThunks => {
      const [x, qkv, p, wcat] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const dy = (dys as tf.Tensor[])[0]!;
      const { heads, hasBias } = mhaAttrs(attrs);
      const [dx, ...rest] = run(FusedKernel.MultiHeadAttentionGrad, { x, qkv, p, wcat, dy }, attrs);
      const g: GradThunks = { x: () => dx! };
      for (let i = 0; i < 3 * heads; i++) g[`w${i}`] = () => rest[i]!;
      if (hasBias) for (let i = 0; i < 3 * heads; i++) g[`b${i}`] = () => rest[3 * heads + i]!;
      return g;
    },
  });
  tf.registerGradient({
    kernelName: FusedKernel.CrossEntropy,
    inputsToSave: ["targets"],
    outputsToSave: [false, true],
    gradFunc: (dys, saved): GradThunks => {
      const [targets, probs] = saved as [tf.Tensor, tf.Tensor];
      const dy = (dys as tf.Tensor[])[0]!;
      return {
        logits: () => run(FusedKernel.CrossEntropyGrad, { probs, targets, dy })[0]!,
        // Integer targets get no gradient; the engine asks only if they depend on a variable.
        targets: () => tf.zeros(targets.shape),
      };
    },
  });
}

let registered = false;

/** Registers the fused kernels on the native backend and their gradients (backend-independent). */
export function registerFusedKernels(a: NativeAddon): void {
  addon = a;
  if (registered) return;
  const kernels = [linear, linearGrad, layerNorm, layerNormGrad, gelu, geluGrad, attention, attentionGrad];
  kernels.push(multiHeadAttention, multiHeadAttentionGrad, crossEntropy, crossEntropyGrad);
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
  return run(FusedKernel.Linear, inputs, { hasBias: bias !== undefined })[0] as T;
}

/** Layer norm over the last axis. The kernel's mean and rstd outputs are for the gradient only. */
export function fusedLayerNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor, beta: tf.Tensor, eps: number): T {
  const [y, mean, rstd] = run(FusedKernel.LayerNorm, { x, gamma, beta }, { eps });
  // The tape keeps its own references when it records; these handles are not needed.
  mean!.dispose();
  rstd!.dispose();
  return y as T;
}

export function fusedGelu<T extends tf.Tensor>(x: T): T {
  return run(FusedKernel.Gelu, { x })[0] as T;
}

/** softmax(mask(q k^T * scale)) v for q, k, v [..., T, D], each position seeing itself and earlier ones. */
export function fusedCausalAttention<T extends tf.Tensor>(q: T, k: T, v: T, scale: number): T {
  const [o, p] = run(FusedKernel.Attention, { q, k, v }, { scale });
  p!.dispose();
  return o as T;
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

/** x [..., T, C] → every head's causal attention output, side by side: [..., T, H * headSize]. */
export function fusedMultiHeadAttention<T extends tf.Tensor>(x: T, heads: readonly HeadWeights[], scale: number): T {
  const inputs: Record<string, tf.Tensor> = { x };
  const hasBias = heads[0]!.query.bias !== undefined;
  heads.forEach((h, i) => {
    [h.query, h.key, h.value].forEach((l, j) => {
      inputs[`w${3 * i + j}`] = l.weight;
      if (hasBias) inputs[`b${3 * i + j}`] = l.bias!;
    });
  });
  const attrs = { heads: heads.length, headSize: heads[0]!.query.weight.shape[0]!, scale, hasBias };
  const [o, qkv, p, wcat] = run(FusedKernel.MultiHeadAttention, inputs, attrs);
  tf.dispose([qkv!, p!, wcat!]);
  return o as T;
}

/** Mean cross-entropy of logits [..., V] against int32 targets [...]. */
export function fusedCrossEntropy(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  const [loss, probs] = run(FusedKernel.CrossEntropy, { logits, targets });
  probs!.dispose();
  return loss as tf.Scalar;
}

// Loads build/babygpt_native.node (built by runtime/native/build.mjs) and types its functions. Every
// function works in place on the typed arrays it is given; shapes and other integer lists travel in one
// Int32Array. See runtime/native/src/addon.cc for the exact layouts.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { PROJECT_ROOT } from "../paths.js";

/**
 * The addon to load: where build.mjs writes it, or BABYGPT_NATIVE_ADDON (a path, relative to the project
 * root or absolute), which the tests and the benchmark use to run on build/babygpt_native_builtin.node.
 */
export const ADDON_PATH = process.env["BABYGPT_NATIVE_ADDON"]
  ? resolve(PROJECT_ROOT, process.env["BABYGPT_NATIVE_ADDON"])
  : join(PROJECT_ROOT, "build", "babygpt_native.node");

/** Element-wise functions of one tensor, numbered as in kernels.h. */
export const UnaryOp = {
  Exp: 0,
  Log: 1,
  Neg: 2,
  Sqrt: 3,
  Rsqrt: 4,
  Square: 5,
  Relu: 6,
  Relu6: 7,
  Erf: 8,
  Abs: 9,
  Sigmoid: 10,
  Tanh: 11,
  Reciprocal: 12,
  Elu: 13,
  LeakyRelu: 14,
  Log1p: 15,
  Expm1: 16,
  Softplus: 17,
  Step: 18,
  Sign: 19,
  Floor: 20,
  Ceil: 21,
  Sin: 22,
  Cos: 23,
  Gelu: 24,
} as const;

/** The gated MLP's activations, numbered as GatedAct in kernels.h. */
export const GatedActivation = {
  relu: 0,
  gelu: 1,
  silu: 2,
  relu2: 3,
} as const;

export const BinaryOp = {
  Add: 0,
  Sub: 1,
  Mul: 2,
  Div: 3,
  Maximum: 4,
  Minimum: 5,
  SquaredDifference: 6,
  Pow: 7,
} as const;

export const ReduceOp = { Sum: 0, Mean: 1, Max: 2, Min: 3, Prod: 4 } as const;

/** Activation codes of matmul / activation. */
export const Act = { linear: 0, relu: 1, relu6: 2, sigmoid: 3, leakyrelu: 4, elu: 5 } as const;

/** Arrays of 4-byte elements, which the data-movement functions accept whatever their type. */
export type Word32Array = Float32Array | Int32Array | Uint32Array;

/** The interface version this file expects; kAbi in addon.cc. */
export const ADDON_ABI = 9;

/**
 * The score shaping an attention binding takes after its own arguments (runtime/ops/score-shaping.ts;
 * none: the causal mask alone): the window (0: none), one ALiBi slope per query head (null: no bias), the
 * cap (0: none), and capGrad, laid out as the weights p, where the forward call writes 1 − tanh² of the
 * capped scores and the gradient reads it (required there with a cap; null forward when no gradient
 * follows).
 */
export type ShapingArgs = [] | [window: number, slopes: Float64Array | null, softcap: number, capGrad: Float32Array | null];

export interface NativeAddon {
  readonly abi: number;
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number): void;
  /** params: [rank, outShape, aShape, bShape], each shape `rank` long (a's and b's padded with 1s). */
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, params: Int32Array): void;
  reduce(op: number, x: Float32Array, out: Float32Array, outer: number, mid: number, inner: number): void;
  argReduce(isMax: boolean, x: Float32Array, out: Int32Array, outer: number, mid: number, inner: number): void;
  softmax(x: Float32Array, out: Float32Array, rows: number, cols: number, log: boolean): void;
  softmaxGrad(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void;
  /** params: [batch, aCount, bCount, M, N, K, transA, transB, act, accumulate]. */
  matmul(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    bias: Float32Array | null,
    aIdx: Int32Array | null,
    bIdx: Int32Array | null,
    params: Int32Array,
    alpha: number,
  ): void;
  activation(act: number, x: Float32Array, alpha: number): void;
  /** params: [rank, size, srcShape, srcBegin, dstShape, dstBegin]. */
  copyRegion(src: Word32Array, dst: Word32Array, params: Int32Array): void;
  /** params: [rank, shape, perm]. */
  transpose(x: Word32Array, out: Word32Array, params: Int32Array): void;
  /** Returns -1, or the position of the first index out of range. */
  gather(x: Word32Array, idx: Int32Array, out: Word32Array, outer: number, axisDim: number, inner: number): number;
  segmentSum(x: Float32Array, ids: Int32Array, out: Float32Array, inner: number, numSegments: number): void;
  oneHot(idx: Int32Array, out: Float32Array, depth: number, on: number, off: number): void;
  fill(out: Float32Array, value: number): void;
  colSum(x: Float32Array, out: Float32Array, cols: number, accumulate: boolean): void;
  layerNorm(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    C: number,
    eps: number,
  ): void;
  layerNormGrad(
    x: Float32Array,
    gamma: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    dy: Float32Array,
    dx: Float32Array | null,
    dgamma: Float32Array | null,
    dbeta: Float32Array | null,
    C: number,
  ): void;
  /** RMS norm over rows of C: y = x * rstd * gamma, saving rstd = 1 / sqrt(mean(x²) + eps) per row. */
  rmsNorm(x: Float32Array, gamma: Float32Array, y: Float32Array, rstd: Float32Array, C: number, eps: number): void;
  rmsNormGrad(x: Float32Array, gamma: Float32Array, rstd: Float32Array, dy: Float32Array, dx: Float32Array | null, dgamma: Float32Array | null, C: number): void;
  geluGrad(x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** The gated MLP's elementwise part, y = act(gate) * up, act a GatedActivation code. */
  gatedActivation(gate: Float32Array, up: Float32Array, y: Float32Array, activation: number): void;
  /** dgate = dy * up * act'(gate), dup = dy * act(gate). */
  gatedActivationGrad(gate: Float32Array, up: Float32Array, dy: Float32Array, dgate: Float32Array, dup: Float32Array, activation: number): void;
  /** y = act(x), act a GatedActivation code: the ungated MLP's middle, for the experts of a mixture. */
  mlpActivation(x: Float32Array, y: Float32Array, activation: number): void;
  /** dx = dy * act'(x). */
  mlpActivationGrad(x: Float32Array, dy: Float32Array, dx: Float32Array, activation: number): void;
  /**
   * A mixture of experts' weighted sum: y [N, C] = sum over k of w[n, k] * o[pos[n, k]] for the experts'
   * output rows o [M, C] and pos [N, K] (w null: weights of 1).
   */
  expertCombine(o: Float32Array, pos: Int32Array, w: Float32Array | null, y: Float32Array, K: number, C: number): void;
  /** dw [N, K] = dy[n] · o[pos[n, k]]; dO [M, C] with row pos[n, k] = w[n, k] * dy[n]. */
  expertCombineGrad(o: Float32Array, pos: Int32Array, w: Float32Array, dy: Float32Array, dO: Float32Array, dw: Float32Array, K: number, C: number): void;
  /**
   * Grouped causal attention of projected heads: q [B, H, Tq, D], k and v [B, KV, Tk, D], params
   * [B, H, KV, Tq, Tk, D] (KV divides H; Tk ≥ Tq, the queries the last Tq positions) into out
   * [B, H, Tq, D], with p [B, H, Tq, Tk] the weights before dropout and mask (or null) the keep flags.
   */
  causalAttention(q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, p: Float32Array, mask: Uint8Array | null, keep: number, params: Int32Array, scale: number, ...shaping: ShapingArgs): void;
  /** dq as q; dk and dv as k and v, summed over the query heads each kv head serves. */
  causalAttentionGrad(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    p: Float32Array,
    mask: Uint8Array | null,
    keep: number,
    dout: Float32Array,
    dq: Float32Array,
    dk: Float32Array,
    dv: Float32Array,
    params: Int32Array,
    scale: number,
    ...shaping: ShapingArgs
  ): void;
  /**
   * Rotary position embedding of x [N, T, hs] (N = B·H) into y, params [N, T, hs, P, half, offset]: the
   * leading 2·half features of row t rotated by row offset + t of the tables cos, sin [P, half], the rest
   * copied; inverse rotates back (the gradient).
   */
  rope(x: Float32Array, cos: Float32Array, sin: Float32Array, y: Float32Array, params: Int32Array, inverse: boolean): void;
  /** tf.dropout's keep flags for mask.length values drawn from seed (as tf.randomUniform draws them). */
  dropoutMask(mask: Uint8Array, seed: number, keep: number): void;
  /** Returns the mean loss; writes the softmax of each row to probs. */
  crossEntropy(logits: Float32Array, targets: Int32Array, probs: Float32Array, V: number): number;
  crossEntropyGrad(probs: Float32Array, targets: Int32Array, dlogits: Float32Array, V: number, scale: number): void;
  /**
   * All heads from a fused projection qkv [B*T, 3*H*D] (per head: q, k, v columns) into out [B, T, H*D],
   * with dropout on the attention weights: mask [B, H, T, T] holds tf.dropout's keep flags
   * (headDropoutMasks), p the weights before dropout. A null mask means no dropout.
   */
  mhaAttentionDropout(qkv: Float32Array, out: Float32Array, p: Float32Array, mask: Uint8Array | null, keep: number, B: number, T: number, H: number, D: number, scale: number, ...shaping: ShapingArgs): void;
  mhaAttentionDropoutGrad(
    qkv: Float32Array,
    p: Float32Array,
    mask: Uint8Array | null,
    keep: number,
    dout: Float32Array,
    dqkv: Float32Array,
    scratch: Float32Array,
    B: number,
    T: number,
    H: number,
    D: number,
    scale: number,
    ...shaping: ShapingArgs
  ): void;
  /** Each head's tf.dropout keep flags for its weights [B, T, T], head h drawn from seeds[h]: mask [B, H, T, T]. */
  headDropoutMasks(seeds: Float64Array, mask: Uint8Array, B: number, H: number, T: number, keep: number): void;
  /** y = tf.dropout(x, 1 - keep, undefined, seed), bit for bit; mask gets the keep flags. */
  dropout(x: Float32Array, y: Float32Array, mask: Uint8Array, seed: number, keep: number): void;
  dropoutGrad(dy: Float32Array, mask: Uint8Array, dx: Float32Array, keep: number): void;
  /** The values of tf.randomUniform([out.length], 0, 1, "float32", seed). */
  aleaFill(seed: number, out: Float32Array): void;
  /** dx = dy * step(x): ReLU's gradient (x may be ReLU's input or its output). */
  reluGrad(x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /**
   * One SGD / Adam / AdamW step over all parameters, in place, as optimizer.ts's tf ops compute it.
   * config: [type (0 sgd, 1 adam), decoupled, scaled, lr, b1, 1 - b1, b2, 1 - b2, sqrt(bc2), eps, lr / bc1,
   * 1 - lr * wd, gradScale], each used as the float32 a tf op would make of it. m and v: adam only.
   */
  optimizerStep(config: Float64Array, params: Float32Array[], grads: Float32Array[], m: Float32Array[] | null, v: Float32Array[] | null): void;
  /** out[k] = the float32 sum of arrays[k]'s squares (summed in double), as tf.sum(tf.square(x)). */
  sumSquares(arrays: Float32Array[], out: Float32Array): void;
  /**
   * One single-threaded product with BLAS's semantics, c = alpha op(a) op(b) + beta c (row-major, leading
   * dimensions). kernel: 0 this build's sgemm, 1 the built-in GEMM's best kernel, 2 its AVX2 kernel, 3 its
   * portable kernel. For tests and benchmarks.
   */
  sgemm(kernel: number, transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number): void;
  /** Sets the kernels' thread count (0 keeps it) and returns the count in effect; a BLAS library runs single-threaded. */
  setThreads(n: number): number;
  /** The n-th scratch allocation from now fails as if memory ran out (0 disarms): for tests. */
  failAllocationAfter(n: number): void;
  /** The BLAS build and the thread count, for the build log. */
  info(): string;
  /** What runs the matrix products: "OpenBLAS 0.3.21", "built-in GEMM, AVX2", "Accelerate". */
  blasName(): string;
  /**
   * A decoder (src/decode.h) of a decode plan flattened by decode.ts, over the model's arrays, which the
   * caller keeps alive and unchanged while it lives; for batches of up to maxBatch sequences.
   */
  decoderCreate(ints: Int32Array, floats: Float64Array, tensors: Float32Array[], maxBatch: number, profile: boolean): NativeDecoderHandle;
  /**
   * One step: tokens [B, T] at positions past … past+T-1; out [B] gets each sequence's next token, drawn
   * with sampling [temperature, topK (0: all), topP (1: all)] and uniforms [B]; logits [B, vocab] (or null)
   * the last position's logits.
   */
  decoderStep(decoder: NativeDecoderHandle, tokens: Int32Array, B: number, T: number, past: number, sampling: Float64Array, uniforms: Float64Array, out: Int32Array, logits: Float32Array | null): void;
  /** Nanoseconds per step kind (decode.ts's STEP_KINDS), then the draws, the whole steps and their count. */
  decoderProfile(decoder: NativeDecoderHandle, out: Float64Array): void;
  /** Frees the decoder now (a second call does nothing). */
  decoderDispose(decoder: NativeDecoderHandle): void;
  /**
   * The decoders' linear-layer kernels in this process: "avx512" where the CPU has AVX-512F (unless
   * BABYGPT_DECODE_KERNEL=avx2), "avx2", or "portable". Every one computes an element the same way.
   */
  decoderKernels(): "avx512" | "avx2" | "portable";
  /** runtime/sample.ts's pickToken on each row of logits [rows, V], rows = out.length. */
  sampleTokens(logits: Float32Array, V: number, sampling: Float64Array, uniforms: Float64Array, out: Int32Array): void;
}

/** The addon's decoder: opaque to JavaScript. */
export type NativeDecoderHandle = { readonly __brand: "NativeDecoder" };

let cached: NativeAddon | undefined;

/** Why there is no addon, with the command that fixes it: the build's own reason where it left one. */
function notBuiltReason(): string {
  try {
    const why = JSON.parse(readFileSync(join(PROJECT_ROOT, "build", "babygpt_native.why"), "utf8")) as { reason: string; fix?: string };
    return `the native addon is not built: ${why.reason}${why.fix ? `; ${why.fix}` : ""}`;
  } catch {
    return `the native addon is not built (${ADDON_PATH} is missing); build it: npm run build:native`;
  }
}

/** The addon, loaded once. Throws an Error whose first line says why it cannot be loaded. */
export function loadAddon(): NativeAddon {
  if (cached) return cached;
  if (!existsSync(ADDON_PATH)) throw new Error(notBuiltReason());
  const require = createRequire(import.meta.url);
  const addon = require(ADDON_PATH) as NativeAddon;
  if (addon.abi !== ADDON_ABI) {
    throw new Error(`the native addon is out of date (interface ${addon.abi}, expected ${ADDON_ABI}); rebuild it: npm run build:native`);
  }
  cached = addon;
  return cached;
}

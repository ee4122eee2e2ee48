// The "native" tfjs backend: the cpu backend's class and storage (tensors live in ordinary typed arrays
// in the JavaScript heap), with its hot kernels replaced by C++ ones (runtime/native/src) that read and
// write those arrays in place: matrix products through OpenBLAS, element-wise ops, reductions, softmax
// and the data movement ops in vectorized loops. Every other kernel is the cpu backend's own, registered
// again under this backend's name, so whatever runs on cpu runs here; so do the native kernels' rare
// cases (other dtypes, prelu, batchDims), which fall back to the cpu kernel of the same name.
//
// Training a small GPT spends much of its time in the tfjs engine's per-op bookkeeping rather than in the
// kernels, so this backend also registers kernels for the ops of runtime/ops, which the models and the
// trainer call: runtime/native/fused.ts for the layers' ops (linear, layer norm, GELU, multi-head
// attention, cross-entropy, embedding, dropout) with their gradient kernels, runtime/native/train.ts for
// the optimizer's update and the gradient norm, one call each over all parameters.
//
// The kernels use every core through the addon's own thread pool (src/threads.cc); OpenBLAS itself runs
// single-threaded inside it. The pool takes the thread count OpenBLAS would have taken
// (OPENBLAS_NUM_THREADS, else the number of cores).
//
// Outputs are allocated through runtime/native/pool.ts, which recycles the arrays of disposed tensors;
// the overrides of NativeBackend below feed it.
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { DataType, KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from "@tensorflow/tfjs";
import { tf } from "../nn/tf.js";
import { Act, BinaryOp, loadAddon, ReduceOp, UnaryOp, type NativeAddon, type Word32Array } from "./addon.js";
import { registerFusedKernels } from "./fused.js";
import { nativeSampling } from "./decode.js";
import { registerBackendSampling } from "../sampling/backends.js";
import { registerNativeGradients } from "./gradients.js";
import { registerNativeTraining } from "./train.js";
import { allocF32, clearPool, noteHeld, noteRead, noteReleased } from "./pool.js";
import { f32, i32, sameShape, sizeOf, word32 } from "./storage.js";

export const NATIVE_BACKEND = "native";

type DataId = object;
type BackendValues = Parameters<MathBackendCPU["write"]>[0];

/**
 * The cpu backend's storage, plus the bookkeeping that lets kernel outputs reuse the arrays of disposed
 * tensors (runtime/native/pool.ts).
 */
export class NativeBackend extends MathBackendCPU {
  constructor() {
    super();
    // The cpu backend prints "looks like you are running TensorFlow.js in Node.js ... install our node
    // backend" on first use; here that advice is wrong.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
    noteHeld(values);
    return super.write(values, shape, dtype);
  }

  override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    noteHeld(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: DataId): BackendValues {
    noteRead(this.data.get(dataId).values);
    return super.readSync(dataId);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    // has() first: get() of a missing id would try to move the data here from another backend.
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const released = super.disposeData(dataId, force);
    if (values !== undefined && !this.data.has(dataId)) noteReleased(values);
    return released;
  }

  override dispose(): void {
    clearPool();
    super.dispose();
  }
}

interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: object;
  attrs?: NamedAttrMap;
}

// Lazily bound after the addon loads; kernels only run once registerNativeBackend succeeded.
let addon: NativeAddon;

// Shape parameters for the addon: one reused buffer, so a kernel call allocates no parameter arrays.
const P = new Int32Array(1 + 5 * 8);
const MAX_RANK = 8;

function storage(args: KernelArgs): MathBackendCPU {
  return args.backend as MathBackendCPU;
}

function newWords(dtype: DataType, n: number): Word32Array {
  return dtype === "int32" ? new Int32Array(n) : allocF32(n);
}

function out(b: MathBackendCPU, shape: number[], dtype: DataType, values: Float32Array | Int32Array | Uint32Array): TensorInfo {
  return b.makeTensorInfo(shape, dtype, values as Float32Array | Int32Array);
}

const cpuKernels = new Map<string, KernelFunc>();
const fallbacks = new Map<string, number>();

/** Runs the cpu backend's kernel of this name: the fallback for cases the native kernel does not cover. */
function fallback(name: string, args: KernelArgs): TensorInfo | TensorInfo[] {
  const k = cpuKernels.get(name);
  if (!k) throw new Error(`native backend: no cpu kernel ${name} to fall back to`);
  fallbacks.set(name, (fallbacks.get(name) ?? 0) + 1);
  return k(args as Parameters<KernelFunc>[0]);
}

/** How often each native kernel handed a call to the cpu kernel (other dtypes, prelu, ...): for tests. */
export function nativeFallbackCounts(): ReadonlyMap<string, number> {
  return new Map(fallbacks);
}

function kernel(kernelName: string, f: (args: KernelArgs) => TensorInfo | TensorInfo[] | undefined): KernelConfig {
  return {
    kernelName,
    backendName: NATIVE_BACKEND,
    kernelFunc: ((args: KernelArgs) => f(args) ?? fallback(kernelName, args)) as unknown as KernelFunc,
  };
}

// ---- element-wise ----

function unaryKernel(name: string, op: number, alphaAttr?: string): KernelConfig {
  return kernel(name, (args) => {
    const b = storage(args);
    const x = args.inputs["x"]!;
    const xv = f32(b, x);
    if (!xv) return undefined;
    const alpha = alphaAttr ? Number(args.attrs?.[alphaAttr] ?? 0) : 0;
    const o = allocF32(xv.length);
    addon.unary(op, xv, o, alpha);
    return out(b, x.shape.slice(), "float32", o);
  });
}

/** Output shape of a broadcasting binary op, and the op's parameter block written into P. */
function broadcastParams(aShape: readonly number[], bShape: readonly number[]): number[] | undefined {
  const outShape = sameShape(aShape, bShape)
    ? aShape.slice()
    : tf.backend_util.assertAndGetBroadcastShape(aShape as number[], bShape as number[]);
  const rank = outShape.length;
  if (rank > MAX_RANK) return undefined;
  P[0] = rank;
  for (let i = 0; i < rank; i++) {
    P[1 + i] = outShape[i]!;
    P[1 + rank + i] = aShape[i - (rank - aShape.length)] ?? 1;
    P[1 + 2 * rank + i] = bShape[i - (rank - bShape.length)] ?? 1;
  }
  return outShape;
}

function binaryKernel(name: string, op: number): KernelConfig {
  return kernel(name, (args) => {
    const b = storage(args);
    const { a, b: bt } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const av = f32(b, a);
    const bv = f32(b, bt);
    if (!av || !bv) return undefined;
    const outShape = broadcastParams(a.shape, bt.shape);
    if (!outShape) return undefined;
    const o = allocF32(sizeOf(outShape));
    addon.binary(op, av, bv, o, P);
    return out(b, outShape, "float32", o);
  });
}

// ---- reductions ----

/** Sorted, de-duplicated, non-negative axes. */
function parseAxes(axis: unknown, shape: number[]): number[] {
  const axes = tf.util.parseAxisParam(axis as number | number[], shape);
  return [...new Set(axes)].sort((x, y) => x - y);
}

/**
 * x's values arranged so the reduced axes form one middle block: [outer, mid, inner]. When the axes are
 * not adjacent, x is transposed (natively) to put them last.
 */
function reductionLayout(
  xv: Float32Array,
  shape: number[],
  axes: number[],
): { src: Float32Array; outer: number; mid: number; inner: number } {
  const first = axes[0]!;
  const last = axes[axes.length - 1]!;
  let mid = 1;
  for (const ax of axes) mid *= shape[ax]!;
  if (last - first + 1 === axes.length) {
    return { src: xv, outer: sizeOf(shape.slice(0, first)), mid, inner: sizeOf(shape.slice(last + 1)) };
  }
  const perm = tf.backend_util.getAxesPermutation(axes, shape.length)!;
  const t = allocF32(xv.length);
  transposeInto(xv, t, shape, perm);
  return { src: t, outer: mid === 0 ? 0 : xv.length / mid, mid, inner: 1 };
}

function reducedShape(shape: number[], axes: number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

function reduceKernel(name: string, op: number, axisAttr: "axis" | "reductionIndices"): KernelConfig {
  return kernel(name, (args) => {
    const b = storage(args);
    const x = args.inputs["x"]!;
    const xv = f32(b, x);
    if (!xv || x.shape.length > MAX_RANK) return undefined;
    const axes = parseAxes(args.attrs?.[axisAttr], x.shape);
    if (axes.length === 0) return undefined;
    const { src, outer, mid, inner } = reductionLayout(xv, x.shape, axes);
    const o = allocF32(outer * inner);
    addon.reduce(op, src, o, outer, mid, inner);
    if (src !== xv) noteReleased(src); // the transposed copy goes back to the pool
    return out(b, reducedShape(x.shape, axes, Boolean(args.attrs?.["keepDims"])), "float32", o);
  });
}

function argReduceKernel(name: string, isMax: boolean): KernelConfig {
  return kernel(name, (args) => {
    const b = storage(args);
    const x = args.inputs["x"]!;
    const xv = f32(b, x);
    if (!xv) return undefined;
    const axes = parseAxes(args.attrs?.["axis"], x.shape);
    if (axes.length !== 1 || x.shape[axes[0]!] === 0) return undefined;
    const ax = axes[0]!;
    const outer = sizeOf(x.shape.slice(0, ax));
    const inner = sizeOf(x.shape.slice(ax + 1));
    const o = new Int32Array(outer * inner);
    addon.argReduce(isMax, xv, o, outer, x.shape[ax]!, inner);
    return out(b, reducedShape(x.shape, axes, false), "int32", o);
  });
}

// ---- matrix products ----

/** For each output batch, the index of the operand's batch that broadcasting maps it to. */
function batchIndices(outer: number[], outBatch: number[]): Int32Array | null {
  const count = sizeOf(outer);
  if (count === 1) return null; // the addon reuses the one matrix
  const pad = outBatch.length - outer.length;
  if (pad === 0 && sameShape(outer, outBatch)) return null; // the addon uses index i for batch i
  const batch = sizeOf(outBatch);
  const idx = new Int32Array(batch);
  for (let i = 0; i < batch; i++) {
    let rem = i;
    let index = 0;
    let stride = 1;
    for (let d = outBatch.length - 1; d >= 0; d--) {
      const coord = rem % outBatch[d]!;
      rem = Math.floor(rem / outBatch[d]!);
      const od = d - pad;
      if (od >= 0) {
        if (outer[od]! !== 1) index += coord * stride;
        stride *= outer[od]!;
      }
    }
    idx[i] = index;
  }
  return idx;
}

const MATMUL_PARAMS = new Int32Array(10);

/**
 * act(op(a) x op(b) + bias) with tfjs's BatchMatMul semantics (batch dims broadcast against each
 * other), or undefined for what the native path does not take (dtypes, ranks < 2, mismatches, which the
 * cpu kernel then reports).
 */
function matmul(
  b: MathBackendCPU,
  a: TensorInfo,
  bt: TensorInfo,
  transA: boolean,
  transB: boolean,
  bias: TensorInfo | undefined,
  act: number,
  alpha: number,
): TensorInfo | undefined {
  const av = f32(b, a);
  const bv = f32(b, bt);
  const ar = a.shape.length;
  const br = bt.shape.length;
  if (!av || !bv || ar < 2 || br < 2) return undefined;
  const M = transA ? a.shape[ar - 1]! : a.shape[ar - 2]!;
  const K = transA ? a.shape[ar - 2]! : a.shape[ar - 1]!;
  const K2 = transB ? bt.shape[br - 1]! : bt.shape[br - 2]!;
  const N = transB ? bt.shape[br - 2]! : bt.shape[br - 1]!;
  if (K !== K2) return undefined;
  const outerA = a.shape.slice(0, -2);
  const outerB = bt.shape.slice(0, -2);
  const outBatch = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  const outShape = [...outBatch, M, N];
  const batch = sizeOf(outBatch);

  let rowBias: Float32Array | null = null;
  let biasInfo: TensorInfo | undefined;
  if (bias) {
    const biasV = f32(b, bias);
    if (!biasV) return undefined;
    // A bias of N values along the last axis is added row by row inside the product; any other
    // broadcastable shape is added afterwards.
    if (biasV.length === N && bias.shape[bias.shape.length - 1] === N) rowBias = biasV;
    else biasInfo = bias;
  }
  const o = allocF32(batch * M * N);
  const p = MATMUL_PARAMS;
  p[0] = batch;
  p[1] = sizeOf(outerA);
  p[2] = sizeOf(outerB);
  p[3] = M;
  p[4] = N;
  p[5] = K;
  p[6] = transA ? 1 : 0;
  p[7] = transB ? 1 : 0;
  p[8] = biasInfo ? 0 : act;
  p[9] = 0;
  addon.matmul(av, bv, o, rowBias, batchIndices(outerA, outBatch), batchIndices(outerB, outBatch), p, alpha);
  if (!biasInfo) return out(b, outShape, "float32", o);

  const biasV = f32(b, biasInfo)!;
  const shape = broadcastParams(outShape, biasInfo.shape);
  if (!shape || !sameShape(shape, outShape)) return undefined;
  const withBias = allocF32(o.length);
  addon.binary(BinaryOp.Add, o, biasV, withBias, P);
  if (act !== Act.linear) addon.activation(act, withBias, alpha);
  return out(b, outShape, "float32", withBias);
}

const batchMatMul = kernel("BatchMatMul", (args) => {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  return matmul(storage(args), a, b, transposeA, transposeB, undefined, Act.linear, 0);
});

const fusedMatMul = kernel("_FusedMatMul", (args) => {
  const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as { transposeA: boolean; transposeB: boolean; activation?: string; leakyreluAlpha?: number };
  const actName = attrs.activation ?? "linear";
  if (preluActivationWeights || !(actName in Act)) return undefined; // prelu: the cpu kernel
  const act = Act[actName as keyof typeof Act];
  return matmul(storage(args), a!, b!, attrs.transposeA, attrs.transposeB, bias, act, attrs.leakyreluAlpha ?? 0.2);
});

// ---- softmax ----

const softmaxKernel = kernel("Softmax", (args) => {
  const b = storage(args);
  const logits = args.inputs["logits"]!;
  const dim = Number(args.attrs?.["dim"] ?? -1);
  const rank = logits.shape.length;
  const xv = f32(b, logits);
  if (!xv || rank === 0 || (dim !== -1 && dim !== rank - 1)) return undefined;
  const cols = logits.shape[rank - 1]!;
  const o = allocF32(xv.length);
  if (cols > 0) addon.softmax(xv, o, xv.length / cols, cols, false);
  return out(b, logits.shape.slice(), "float32", o);
});

// ---- data movement ----

function transposeInto(x: Word32Array, o: Word32Array, shape: readonly number[], perm: readonly number[]): void {
  const rank = shape.length;
  P[0] = rank;
  for (let i = 0; i < rank; i++) {
    P[1 + i] = shape[i]!;
    P[1 + rank + i] = perm[i]!;
  }
  addon.transpose(x, o, P);
}

const transposeKernel = kernel("Transpose", (args) => {
  const b = storage(args);
  const x = args.inputs["x"]!;
  const perm = args.attrs?.["perm"] as number[];
  const xv = word32(b, x);
  if (!xv || x.shape.length > MAX_RANK) return undefined;
  const o = newWords(x.dtype, xv.length);
  transposeInto(xv, o, x.shape, perm);
  return out(b, perm.map((p) => x.shape[p]!), x.dtype, o);
});

/**
 * Copies a box of `size` from src (shape srcShape, at srcBegin) into dst (shape dstShape, at dstBegin):
 * the one routine behind concat, split, slice and pad (at most 8 dims; contiguous runs are memcpy'd).
 */
function copyRegion(
  src: Word32Array,
  dst: Word32Array,
  size: readonly number[],
  srcShape: readonly number[],
  srcBegin: readonly number[],
  dstShape: readonly number[],
  dstBegin: readonly number[],
): void {
  const rank = size.length;
  P[0] = rank;
  for (let i = 0; i < rank; i++) {
    P[1 + i] = size[i]!;
    P[1 + rank + i] = srcShape[i]!;
    P[1 + 2 * rank + i] = srcBegin[i]!;
    P[1 + 3 * rank + i] = dstShape[i]!;
    P[1 + 4 * rank + i] = dstBegin[i]!;
  }
  addon.copyRegion(src, dst, P);
}

const concatKernel = kernel("Concat", (args) => {
  const b = storage(args);
  const inputs = args.inputs as unknown as TensorInfo[];
  if (inputs.length === 0) return undefined;
  const dtype = inputs[0]!.dtype;
  const axis = tf.util.parseAxisParam(args.attrs?.["axis"] as number, inputs[0]!.shape)[0]!;
  const vals = inputs.map((t) => (t.dtype === dtype ? word32(b, t) : undefined));
  if (vals.some((v) => !v)) return undefined;
  const shapes = inputs.map((t) => t.shape);
  tf.backend_util.assertParamsConsistent(shapes, axis);
  const outShape = tf.backend_util.computeOutShape(shapes, axis);
  const outer = sizeOf(outShape.slice(0, axis));
  const inner = sizeOf(outShape.slice(axis + 1));
  const total = outShape[axis]!;
  const o = newWords(dtype, sizeOf(outShape));
  let offset = 0;
  inputs.forEach((t, i) => {
    const n = t.shape[axis]!;
    if (n > 0 && outer > 0 && inner > 0) copyRegion(vals[i]!, o, [outer, n, inner], [outer, n, inner], [0, 0, 0], [outer, total, inner], [0, offset, 0]);
    offset += n;
  });
  return out(b, outShape, dtype, o);
});

const splitVKernel = kernel("SplitV", (args) => {
  const b = storage(args);
  const x = args.inputs["x"]!;
  const xv = word32(b, x);
  if (!xv) return undefined;
  const axis = tf.util.parseAxisParam(args.attrs?.["axis"] as number, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x, args.attrs?.["numOrSizeSplits"] as number[] | number, axis);
  const outer = sizeOf(x.shape.slice(0, axis));
  const inner = sizeOf(x.shape.slice(axis + 1));
  const total = x.shape[axis]!;
  let offset = 0;
  return sizes.map((n) => {
    const shape = x.shape.slice();
    shape[axis] = n;
    const o = newWords(x.dtype, outer * n * inner);
    if (o.length > 0) copyRegion(xv, o, [outer, n, inner], [outer, total, inner], [0, offset, 0], [outer, n, inner], [0, 0, 0]);
    offset += n;
    return out(b, shape, x.dtype, o);
  });
});

const sliceKernel = kernel("Slice", (args) => {
  const b = storage(args);
  const x = args.inputs["x"]!;
  const xv = word32(b, x);
  if (!xv || x.shape.length > MAX_RANK) return undefined;
  const [begin, size] = tf.slice_util.parseSliceParams(x, args.attrs?.["begin"] as number[], args.attrs?.["size"] as number[]) as [
    number[],
    number[],
  ];
  tf.slice_util.assertParamsValid(x, begin, size);
  const n = sizeOf(size);
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    // A contiguous slice shares the input's buffer, as the cpu backend's Slice does: no copy.
    const offset = tf.slice_util.computeFlatOffset(begin, tf.util.computeStrides(x.shape));
    return out(b, size, x.dtype, xv.subarray(offset, offset + n));
  }
  const o = newWords(x.dtype, n);
  if (n > 0) copyRegion(xv, o, size, x.shape, begin, size, size.map(() => 0));
  return out(b, size, x.dtype, o);
});

const padKernel = kernel("PadV2", (args) => {
  const b = storage(args);
  const x = args.inputs["x"]!;
  const xv = word32(b, x);
  if (!xv || x.shape.length > MAX_RANK || x.shape.length === 0) return undefined;
  const paddings = args.attrs?.["paddings"] as Array<[number, number]>;
  const value = Number(args.attrs?.["constantValue"] ?? 0);
  const outShape = x.shape.map((d, i) => paddings[i]![0] + d + paddings[i]![1]);
  const o = newWords(x.dtype, sizeOf(outShape));
  o.fill(value); // recycled arrays are not zeroed
  if (xv.length > 0) copyRegion(xv, o, x.shape, x.shape, x.shape.map(() => 0), outShape, paddings.map((p) => p[0]));
  return out(b, outShape, x.dtype, o);
});

const gatherKernel = kernel("GatherV2", (args) => {
  const b = storage(args);
  const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
  const batchDims = Number(args.attrs?.["batchDims"] ?? 0);
  const xv = word32(b, x);
  const iv = i32(b, indices);
  if (!xv || !iv || batchDims !== 0) return undefined;
  const axis = tf.util.parseAxisParam(args.attrs?.["axis"] as number, x.shape)[0]!;
  const outer = sizeOf(x.shape.slice(0, axis));
  const axisDim = x.shape[axis]!;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const outShape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
  const o = newWords(x.dtype, sizeOf(outShape));
  const bad = addon.gather(xv, iv, o, outer, axisDim, inner);
  if (bad >= 0) throw new Error(`GatherV2: the index value ${iv[bad]} is not in [0, ${axisDim - 1}]`);
  return out(b, outShape, x.dtype, o);
});

const segmentSumKernel = kernel("UnsortedSegmentSum", (args) => {
  const b = storage(args);
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const numSegments = Number(args.attrs?.["numSegments"]);
  const xv = f32(b, x);
  const ids = i32(b, segmentIds);
  // TensorFlow's semantics for 1-D ids; the cpu kernel handles the rest its own way.
  if (!xv || !ids || segmentIds.shape.length !== 1 || x.shape.length < 1 || x.shape[0] !== ids.length) return undefined;
  const inner = sizeOf(x.shape.slice(1));
  const o = allocF32(numSegments * inner);
  addon.segmentSum(xv, ids, o, inner, numSegments);
  return out(b, [numSegments, ...x.shape.slice(1)], "float32", o);
});

const oneHotKernel = kernel("OneHot", (args) => {
  const b = storage(args);
  const indices = args.inputs["indices"]!;
  const { depth, onValue, offValue, dtype } = args.attrs as { depth: number; onValue: number; offValue: number; dtype: DataType };
  const iv = i32(b, indices);
  if (!iv || dtype !== "float32") return undefined;
  const o = allocF32(iv.length * depth);
  addon.oneHot(iv, o, depth, onValue, offValue);
  return out(b, [...indices.shape, depth], "float32", o);
});

/** The native kernels; everything else on this backend is the cpu backend's. */
function nativeKernels(): KernelConfig[] {
  return [
    binaryKernel("Add", BinaryOp.Add),
    binaryKernel("Sub", BinaryOp.Sub),
    binaryKernel("Multiply", BinaryOp.Mul),
    binaryKernel("RealDiv", BinaryOp.Div),
    binaryKernel("Maximum", BinaryOp.Maximum),
    binaryKernel("Minimum", BinaryOp.Minimum),
    binaryKernel("SquaredDifference", BinaryOp.SquaredDifference),
    binaryKernel("Pow", BinaryOp.Pow),
    unaryKernel("Exp", UnaryOp.Exp),
    unaryKernel("Log", UnaryOp.Log),
    unaryKernel("Neg", UnaryOp.Neg),
    unaryKernel("Sqrt", UnaryOp.Sqrt),
    unaryKernel("Rsqrt", UnaryOp.Rsqrt),
    unaryKernel("Square", UnaryOp.Square),
    unaryKernel("Relu", UnaryOp.Relu),
    unaryKernel("Relu6", UnaryOp.Relu6),
    unaryKernel("Erf", UnaryOp.Erf),
    unaryKernel("Abs", UnaryOp.Abs),
    unaryKernel("Sigmoid", UnaryOp.Sigmoid),
    unaryKernel("Tanh", UnaryOp.Tanh),
    unaryKernel("Reciprocal", UnaryOp.Reciprocal),
    unaryKernel("Elu", UnaryOp.Elu),
    unaryKernel("LeakyRelu", UnaryOp.LeakyRelu, "alpha"),
    unaryKernel("Log1p", UnaryOp.Log1p),
    unaryKernel("Expm1", UnaryOp.Expm1),
    unaryKernel("Softplus", UnaryOp.Softplus),
    unaryKernel("Step", UnaryOp.Step, "alpha"),
    unaryKernel("Sign", UnaryOp.Sign),
    unaryKernel("Floor", UnaryOp.Floor),
    unaryKernel("Ceil", UnaryOp.Ceil),
    unaryKernel("Sin", UnaryOp.Sin),
    unaryKernel("Cos", UnaryOp.Cos),
    reduceKernel("Sum", ReduceOp.Sum, "axis"),
    reduceKernel("Mean", ReduceOp.Mean, "axis"),
    reduceKernel("Max", ReduceOp.Max, "reductionIndices"),
    reduceKernel("Min", ReduceOp.Min, "axis"),
    reduceKernel("Prod", ReduceOp.Prod, "axis"),
    argReduceKernel("ArgMax", true),
    argReduceKernel("ArgMin", false),
    batchMatMul,
    fusedMatMul,
    softmaxKernel,
    transposeKernel,
    concatKernel,
    splitVKernel,
    sliceKernel,
    padKernel,
    gatherKernel,
    segmentSumKernel,
    oneHotKernel,
  ];
}

/** Names of the kernels this backend runs natively (the rest are the cpu backend's). */
export function nativeKernelNames(): string[] {
  return nativeKernels().map((k) => k.kernelName);
}

let registered = false;

/**
 * Registers the "native" backend: loads the addon (throwing an Error whose first line says why when it
 * cannot), registers every cpu kernel under the new name, then the native kernels and the ops' kernels.
 * Idempotent. Returns true once the backend is registered.
 */
export function registerNativeBackend(): boolean {
  if (registered) return true;
  addon = loadAddon();
  // Make sure the cpu backend's kernels are registered (importing @tensorflow/tfjs does it in Node).
  const cpu = tf.getKernelsForBackend("cpu");
  if (cpu.length === 0) throw new Error("the tfjs cpu backend's kernels are not registered");
  const natives = nativeKernels();
  const nativeNames = new Set(natives.map((k) => k.kernelName));
  for (const k of cpu) {
    cpuKernels.set(k.kernelName, k.kernelFunc);
    if (!nativeNames.has(k.kernelName)) tf.registerKernel({ ...k, backendName: NATIVE_BACKEND });
  }
  for (const k of natives) tf.registerKernel(k);
  registerFusedKernels(addon);
  registerNativeGradients(addon);
  registerNativeTraining(addon);
  registerBackendSampling(NATIVE_BACKEND, nativeSampling(addon));
  // Priority 0: chosen only on request (selectBackend), never silently in place of the default.
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(), 0);
  registered = true;
  return true;
}

/** OpenBLAS's build and the kernels' thread count, for the run log; undefined before registration. */
export function nativeBackendInfo(): string | undefined {
  return registered ? addon.info() : undefined;
}

// Reading tensors' values straight out of the cpu backend's storage, for the native kernels.
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { TensorInfo } from "@tensorflow/tfjs";
import type { Word32Array } from "./addon.js";

export function isF32(v: unknown): v is Float32Array {
  // toStringTag rather than instanceof, which fails for arrays from another realm (vitest, workers).
  return v instanceof Float32Array || (ArrayBuffer.isView(v) && (v as Float32Array)[Symbol.toStringTag] === "Float32Array");
}

export function isI32(v: unknown): v is Int32Array {
  return v instanceof Int32Array || (ArrayBuffer.isView(v) && (v as Int32Array)[Symbol.toStringTag] === "Int32Array");
}

/** The float32 values of t, or undefined when t is not a plain float32 tensor in this storage. */
export function f32(b: MathBackendCPU, t: TensorInfo | undefined): Float32Array | undefined {
  if (!t || t.dtype !== "float32") return undefined;
  const v = b.data.get(t.dataId).values;
  return isF32(v) ? v : undefined;
}

export function i32(b: MathBackendCPU, t: TensorInfo | undefined): Int32Array | undefined {
  if (!t || t.dtype !== "int32") return undefined;
  const v = b.data.get(t.dataId).values;
  return isI32(v) ? v : undefined;
}

/** float32 or int32 values: the data movement kernels copy 4-byte words whatever they hold. */
export function word32(b: MathBackendCPU, t: TensorInfo | undefined): Word32Array | undefined {
  if (!t) return undefined;
  return t.dtype === "float32" ? f32(b, t) : t.dtype === "int32" ? i32(b, t) : undefined;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}


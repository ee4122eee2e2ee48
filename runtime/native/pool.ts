// Recycles the Float32Arrays of disposed tensors as the outputs of later kernels.
//
// Why: a training step of the baby GPT allocates a few hundred megabytes of short-lived outputs. Every
// fresh Float32Array of that size is new memory from the system: zeroed pages, a page fault per 4 KiB,
// and V8 garbage collections triggered by the external memory. That cost more than the arithmetic. The
// shapes repeat exactly from step to step, so arrays freed by one step fit the next one's outputs (as
// PyTorch's caching allocator does).
//
// Safety: an array is recycled only when no tensor can still see it and it never left the backend.
//  - Only arrays that allocF32 made are tracked; arrays that user code handed to tf.tensor() never are.
//  - Each tracked array counts the tensors (data ids) holding it: a kernel may return an input's array as
//    its output, under a new id; the array waits for both.
//  - A view on a tracked array (a contiguous Slice shares its input's buffer, as in the cpu backend)
//    makes the array untracked for good: the view's lifetime is not known.
//  - So does reading a tensor's values (dataSync, data, arraySync, bufferSync), since the caller may keep
//    the array after disposing the tensor.
// Untracked arrays are left to the garbage collector as usual.
import { isF32 } from "./storage.js";

/** Arrays smaller than this are cheap to allocate (V8 keeps tiny ones on its heap); not pooled. */
const MIN_POOLED = 256;
/** Free arrays kept at most, in bytes; beyond it, freed arrays go to the garbage collector. */
const MAX_FREE_BYTES = 512 * 2 ** 20;

const free = new Map<number, Float32Array[]>();
let freeBytes = 0;
/** For each tracked array: how many live tensors hold it. */
const holders = new WeakMap<Float32Array, number>();
/** Each tracked array by its buffer, to recognise views on it. */
const byBuffer = new WeakMap<ArrayBufferLike, Float32Array>();

/** A Float32Array of n elements for a kernel output. Its contents are arbitrary: write every element. */
export function allocF32(n: number): Float32Array {
  if (n < MIN_POOLED) return new Float32Array(n);
  const a = free.get(n)?.pop();
  if (a) {
    freeBytes -= a.byteLength;
    holders.set(a, 0);
    return a;
  }
  const fresh = new Float32Array(n);
  holders.set(fresh, 0);
  byBuffer.set(fresh.buffer, fresh);
  return fresh;
}

function untrack(values: Float32Array): void {
  const base = holders.has(values) ? values : byBuffer.get(values.buffer);
  if (base) holders.delete(base);
}

/** A tensor now holds these values (the backend's write / move). */
export function noteHeld(values: unknown): void {
  if (!isF32(values)) return;
  const n = holders.get(values);
  if (n !== undefined) holders.set(values, n + 1);
  else if (byBuffer.has(values.buffer)) untrack(values); // a view on a tracked array
}

/** These values were handed out of the backend (readSync): never recycle them. */
export function noteRead(values: unknown): void {
  if (isF32(values)) untrack(values);
}

/** A tensor holding these values was disposed. */
export function noteReleased(values: unknown): void {
  if (!isF32(values)) return;
  const n = holders.get(values);
  if (n === undefined) return;
  if (n > 1) {
    holders.set(values, n - 1);
    return;
  }
  if (freeBytes + values.byteLength > MAX_FREE_BYTES) {
    holders.delete(values);
    return;
  }
  holders.set(values, 0);
  let list = free.get(values.length);
  if (!list) free.set(values.length, (list = []));
  list.push(values);
  freeBytes += values.byteLength;
}

/** Drops every free array (for tests, and when the backend is disposed). */
export function clearPool(): void {
  free.clear();
  freeBytes = 0;
}

/** Bytes held in free arrays. */
export function pooledBytes(): number {
  return freeBytes;
}

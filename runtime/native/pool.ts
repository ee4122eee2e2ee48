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
//  - An array on the free list is in a state of its own, not "held by 0 tensors" (which is also what a
//    fresh array is until a tensor takes it): releasing, retaining or holding a free array is a bug that
//    would hand one array to two tensors, and throws instead.
// Untracked arrays are left to the garbage collector as usual.
import { totalmem } from "node:os";
import { isF32 } from "./storage.js";

/** Arrays smaller than this are cheap to allocate (V8 keeps tiny ones on its heap); not pooled. */
const MIN_POOLED = 256;
/**
 * Free arrays kept at most, in bytes; beyond it, freed arrays go to the garbage collector. A quarter of
 * the machine's memory (at least 512 MiB, at most 8 GiB): a training step frees, by its end, about as
 * much as it allocated, and the next step needs all of it again. An array dropped here is not memory
 * saved: it stays resident until V8 collects it, while the next step faults in fresh pages for its
 * replacement (the lecture GPT's step took 8.8 s with 512 MiB, 5.7 s with room for everything, at the
 * same peak resident memory).
 */
const MAX_FREE_BYTES = Math.min(8 * 2 ** 30, Math.max(512 * 2 ** 20, Math.floor(totalmem() / 4)));

/**
 * Free arrays of a size nobody asked for during this many allocations are let go: shapes that do not
 * repeat (sampling's growing context, a previous model in the same process) would otherwise sit in the
 * pool for good. Training repeats its shapes every step, a few hundred allocations apart.
 */
const STALE_AFTER = 1 << 16;

const free = new Map<number, Float32Array[]>();
let freeBytes = 0;
/** Allocations so far, and when each size was last asked for or given back. */
let clock = 0;
const lastUse = new Map<number, number>();
/** For each tracked array that is not free: how many live tensors hold it. */
const holders = new WeakMap<Float32Array, number>();
/** Tracked arrays on the free list (never also in holders). */
const onFreeList = new WeakSet<Float32Array>();
/** Each tracked array by its buffer, to recognise views on it. */
const byBuffer = new WeakMap<ArrayBufferLike, Float32Array>();

/** A Float32Array of n elements for a kernel output. Its contents are arbitrary: write every element. */
export function allocF32(n: number): Float32Array {
  if (n < MIN_POOLED) return new Float32Array(n);
  return allocOwned(n);
}

/**
 * As allocF32, but tracked whatever its size, so that isExclusive can vouch for it (arrays too small to
 * pool are still never pooled). For arrays that live long, such as parameters and optimizer moments.
 */
export function allocOwned(n: number): Float32Array {
  let a: Float32Array | undefined;
  if (n >= MIN_POOLED) {
    if ((++clock & 4095) === 0) dropStale();
    lastUse.set(n, clock);
    a = free.get(n)?.pop();
  }
  if (a) {
    freeBytes -= a.byteLength;
    onFreeList.delete(a);
    holders.set(a, 0);
    return a;
  }
  const fresh = new Float32Array(n);
  holders.set(fresh, 0);
  byBuffer.set(fresh.buffer, fresh);
  return fresh;
}

function dropStale(): void {
  for (const [n, list] of free) {
    if (clock - (lastUse.get(n) ?? 0) <= STALE_AFTER) continue;
    for (const a of list) {
      freeBytes -= a.byteLength;
      onFreeList.delete(a);
    }
    free.delete(n);
    lastUse.delete(n);
  }
}

function untrack(values: Float32Array): void {
  const base = holders.has(values) ? values : byBuffer.get(values.buffer);
  if (base) holders.delete(base);
}

/** The pool's bookkeeping was about to hand one array to two owners: a bug in a kernel, never a user's. */
function refuseFree(values: Float32Array, what: string): never {
  throw new Error(`native backend: ${what} an array of ${values.length} floats that is already back in the pool (a kernel released it twice, or kept it after releasing it)`);
}

/** A tensor now holds these values (the backend's write / move). */
export function noteHeld(values: unknown): void {
  if (!isF32(values)) return;
  if (onFreeList.has(values)) refuseFree(values, "a tensor took");
  const n = holders.get(values);
  if (n !== undefined) holders.set(values, n + 1);
  else if (byBuffer.has(values.buffer)) untrack(values); // a view on a tracked array
}

/**
 * True when exactly one tensor (data id) holds these values, no view on them was ever made and they were
 * never handed out by readSync: nothing outside the backend can see them, and they may be updated in
 * place. (Whether other tensors share that data id is the backend's refCount, which the caller checks.)
 */
export function isExclusive(values: Float32Array): boolean {
  return holders.get(values) === 1;
}

/** These values were handed out of the backend (readSync): never recycle them. */
export function noteRead(values: unknown): void {
  if (isF32(values)) untrack(values);
}

/** A tensor holding these values was disposed. */
export function noteReleased(values: unknown): void {
  if (!isF32(values)) return;
  if (onFreeList.has(values)) refuseFree(values, "released");
  const n = holders.get(values);
  if (n === undefined) return;
  if (n > 1) {
    holders.set(values, n - 1);
    return;
  }
  if (values.length < MIN_POOLED || freeBytes + values.byteLength > MAX_FREE_BYTES) {
    holders.delete(values);
    return;
  }
  holders.delete(values);
  onFreeList.add(values);
  let list = free.get(values.length);
  if (!list) free.set(values.length, (list = []));
  list.push(values);
  freeBytes += values.byteLength;
  lastUse.set(values.length, clock);
}

/** Drops every free array (for tests, and when the backend is disposed). */
export function clearPool(): void {
  for (const list of free.values()) for (const a of list) onFreeList.delete(a);
  free.clear();
  lastUse.clear();
  freeBytes = 0;
  freeBytesU8.clear();
  u8Bytes = 0;
}

/** Bytes held in free arrays. */
export function pooledBytes(): number {
  return freeBytes;
}

// Byte arrays (dropout's keep flags), which never become tensors: the kernel that makes one frees it.
const freeBytesU8 = new Map<number, Uint8Array[]>();
let u8Bytes = 0;

/** A Uint8Array of n elements with arbitrary contents, for a kernel's own bookkeeping. */
export function allocU8(n: number): Uint8Array {
  const a = freeBytesU8.get(n)?.pop();
  if (a) {
    u8Bytes -= a.byteLength;
    return a;
  }
  return new Uint8Array(n);
}

/** Gives back an array from allocU8 that nothing uses any more. */
export function releaseU8(a: Uint8Array): void {
  if (a.length < MIN_POOLED || u8Bytes + a.byteLength > MAX_FREE_BYTES / 4) return;
  let list = freeBytesU8.get(a.length);
  if (!list) freeBytesU8.set(a.length, (list = []));
  list.push(a);
  u8Bytes += a.byteLength;
}

/**
 * Keeps a tensor's values from being recycled after the tensor is disposed, until release(): what a
 * kernel does with the arrays its gradient will read (instead of keeping clones of the tensors).
 */
export function retain(values: Float32Array): void {
  if (onFreeList.has(values)) refuseFree(values, "a kernel retained");
  const n = holders.get(values);
  if (n !== undefined) holders.set(values, n + 1);
}

/** Undoes retain() (and frees an array a kernel allocated for itself once nothing holds it). */
export function release(values: Float32Array): void {
  noteReleased(values);
}

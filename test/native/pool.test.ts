// The native backend's array pool (runtime/native/pool.ts): an array is handed to one owner at a time.
// A free array is in a state of its own, so that releasing it a second time, or a tensor or kernel
// taking it while it waits on the free list, throws instead of handing one array to two tensors.
import { beforeEach, describe, expect, it } from "vitest";
import { allocF32, clearPool, isExclusive, noteHeld, noteReleased, pooledBytes, release, retain } from "../../runtime/native/pool.js";

const N = 4096; // pooled (at least MIN_POOLED floats)

describe("native array pool", () => {
  beforeEach(() => clearPool());

  it("recycles a released array once, to one owner", () => {
    const a = allocF32(N);
    noteHeld(a);
    expect(isExclusive(a)).toBe(true);
    noteReleased(a);
    expect(pooledBytes()).toBe(4 * N);
    const b = allocF32(N);
    const c = allocF32(N);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(pooledBytes()).toBe(0);
  });

  it("refuses a second release of a tensor's array, and never gives it out twice", () => {
    const a = allocF32(N);
    noteHeld(a);
    noteReleased(a);
    expect(() => noteReleased(a)).toThrow(/released an array of 4096 floats that is already back in the pool/);
    expect(pooledBytes()).toBe(4 * N); // still one entry on the free list
    expect(allocF32(N)).toBe(a);
    expect(allocF32(N)).not.toBe(a);
  });

  it("refuses a second release of a kernel's own scratch array (allocated, never held)", () => {
    const scratch = allocF32(N);
    noteReleased(scratch);
    expect(() => noteReleased(scratch)).toThrow(/already back in the pool/);
  });

  it("an array held by two tensors goes back after both release it, and not a third time", () => {
    const a = allocF32(N);
    noteHeld(a);
    noteHeld(a); // a kernel returned its input's array under a new data id
    noteReleased(a);
    expect(pooledBytes()).toBe(0);
    noteReleased(a);
    expect(pooledBytes()).toBe(4 * N);
    expect(() => noteReleased(a)).toThrow(/already back in the pool/);
  });

  it("refuses to let a tensor or a kernel take an array that is on the free list", () => {
    const a = allocF32(N);
    noteReleased(a);
    expect(() => noteHeld(a)).toThrow(/a tensor took an array of 4096 floats that is already back in the pool/);
    expect(() => retain(a)).toThrow(/a kernel retained/);
    const b = allocF32(N);
    expect(b).toBe(a);
    retain(b); // fine once it has an owner again
    release(b);
  });
});

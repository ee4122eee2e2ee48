// getBatch: shapes, dtype, the one-token shift between inputs and targets, and reproducibility.
import { describe, expect, it } from "vitest";
import { getBatch, sampleWindows } from "../../runtime/data/batches.js";
import { Prng } from "../../runtime/random.js";
import { tf } from "../../runtime/nn/tf.js";

const data = Int32Array.from({ length: 1000 }, (_, i) => i);

describe("batches", () => {
  it("returns (B, T) int32 inputs and targets shifted by one", async () => {
    const { x, y } = getBatch(data, 4, 8, new Prng(1));
    expect(x.shape).toEqual([4, 8]);
    expect(y.shape).toEqual([4, 8]);
    expect(x.dtype).toBe("int32");
    const xs = (await x.array()) as number[][];
    const ys = (await y.array()) as number[][];
    xs.forEach((row, b) => {
      row.forEach((v, t) => expect(ys[b]![t]).toBe(v + 1)); // data[i] = i, so the target is the next index
      expect(row[7]! - row[0]!).toBe(7); // contiguous window
    });
    tf.dispose([x, y]);
  });

  it("draws the same windows from the same seed and different ones from another", () => {
    const a = sampleWindows(data, 8, 4, new Prng(7)).x;
    const b = sampleWindows(data, 8, 4, new Prng(7)).x;
    const c = sampleWindows(data, 8, 4, new Prng(8)).x;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it("never reads past the end: the last window's target is the last token", () => {
    const small = Int32Array.from({ length: 9 }, (_, i) => i); // exactly one window of T=8 plus its target
    const { x, y } = sampleWindows(small, 16, 8, new Prng(3));
    expect(Math.max(...y)).toBe(8);
    expect(Math.min(...x)).toBe(0);
  });
});

describe("Prng", () => {
  it("restores from its state mid-stream", () => {
    const a = new Prng(42);
    a.nextUint32();
    const b = Prng.fromState(a.state);
    expect([a.nextUint32(), a.nextUint32()]).toEqual([b.nextUint32(), b.nextUint32()]);
  });

  it("draws roughly uniform floats and standard normals", () => {
    const rng = new Prng(5);
    const n = 20_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.nextNormal();
      sum += z;
      sq += z * z;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.05);
  });
});

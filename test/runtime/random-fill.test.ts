// Initialization draws whole tensors through fillNormal and fillUniform: they must give the values, and
// leave the state, that the one-value-at-a-time methods give, so that a seed's weights do not depend on
// which of the two drew them (and checkpoints' PRNG states stay comparable).
import { describe, expect, it } from "vitest";
import { Prng } from "../../runtime/random.js";

const SEEDS = [0, 1, 1337, 0xffffffff, 123456789];

describe("the PRNG's fills", () => {
  it.each(SEEDS)("fillNormal gives nextNormal() · scale, value for value, and the same state after (seed %d)", (seed) => {
    const one = new Prng(seed);
    const fill = new Prng(seed);
    one.nextUint32();
    fill.nextUint32();
    const n = 10_007;
    const expected = new Float32Array(n);
    for (let i = 0; i < n; i++) expected[i] = one.nextNormal() * 0.02;
    const got = new Float32Array(n);
    fill.fillNormal(got, 0.02);
    expect(Buffer.from(got.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    expect(fill.state).toEqual(one.state);
    // and the streams go on together
    expect(fill.nextUint32()).toBe(one.nextUint32());
  });

  it.each(SEEDS)("fillUniform gives (nextFloat() · 2 − 1) · bound and the same state after (seed %d)", (seed) => {
    const one = new Prng(seed);
    const fill = new Prng(seed);
    const expected = Float32Array.from({ length: 999 }, () => (one.nextFloat() * 2 - 1) * 0.3);
    const got = new Float32Array(999);
    fill.fillUniform(got, 0.3);
    expect(Buffer.from(got.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    expect(fill.state).toEqual(one.state);
  });
});

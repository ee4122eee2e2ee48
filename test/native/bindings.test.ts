// The N-API bindings' own defences (runtime/native/src/addon.cc), called directly: every array must have
// exactly the length the other operands' shapes give (cross-entropy logits against their targets,
// attention's projections, weights, gradients, dropout flags, ALiBi slopes and the cap's derivative
// against [B, T, H, D], a bias against its width, ...), and a mismatch is an Error naming the op and the shapes, thrown before anything is read or written; sizes are whole numbers whose products cannot
// overflow; a scratch allocation that fails is an Error too, after which the next call works. Also
// LayerNorm's statistics at a large offset, where a float32 mean loses the low bits of every value.
import { describe, expect, it } from "vitest";
import { loadAddon, type NativeAddon } from "../../runtime/native/addon.js";
import { layerNorm } from "../../runtime/nn/functional.js";
import { tf } from "../../runtime/nn/tf.js";
import { Prng } from "../../runtime/random.js";
import { nativeUnavailable } from "../helpers/native.js";

const skipReason = nativeUnavailable();
const rng = new Prng(17);
const f32 = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.nextNormal());
const i32 = (n: number, max: number): Int32Array => Int32Array.from({ length: n }, () => rng.nextInt(max));
const MATMUL = (M: number, N: number, K: number): Int32Array => Int32Array.of(1, 1, 1, M, N, K, 0, 1, 0, 0);

describe.skipIf(skipReason)(`native bindings${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  const addon = (skipReason ? undefined : loadAddon()) as NativeAddon;

  // [what, call, the message it must throw]
  const mismatches: [string, () => unknown, RegExp][] = [
    [
      "cross-entropy logits with more rows than targets",
      () => addon.crossEntropy(f32(13 * 65), i32(12, 65), new Float32Array(13 * 65), 65),
      /^babygpt native: crossEntropy: logits has 845 elements, but targets x V \[12, 65\] needs 780$/,
    ],
    [
      "cross-entropy logits with fewer rows than targets",
      () => addon.crossEntropy(f32(11 * 65), i32(12, 65), new Float32Array(12 * 65), 65),
      /crossEntropy: logits has 715 elements, but targets x V \[12, 65\] needs 780/,
    ],
    [
      "cross-entropy gradient into a longer array",
      () => addon.crossEntropyGrad(f32(12 * 65), i32(12, 65), new Float32Array(13 * 65), 65, 1),
      /crossEntropyGrad: dlogits has 845 elements, but targets x V \[12, 65\] needs 780/,
    ],
    [
      "attention weights for another context length",
      () => addon.mhaAttentionDropout(f32(2 * 4 * 3 * 8), new Float32Array(2 * 4 * 8), new Float32Array(2 * 5 * 5), null, 1, 2, 4, 1, 8, 1),
      /^babygpt native: mhaAttentionDropout: p has 50 elements, but \[B, T, H, D\] \[2, 4, 1, 8\] needs 32$/,
    ],
    [
      "an attention gradient whose dout is shorter than the output",
      () => addon.mhaAttentionDropoutGrad(f32(2 * 4 * 3 * 8), f32(32), null, 1, f32(63), new Float32Array(2 * 4 * 3 * 8), new Float32Array(16), 2, 4, 1, 8, 1),
      /mhaAttentionDropoutGrad: dout has 63 elements, but \[B, T, H, D\] \[2, 4, 1, 8\] needs 64/,
    ],
    [
      "an attention gradient's scratch of the wrong size",
      () => addon.mhaAttentionDropoutGrad(f32(2 * 4 * 3 * 8), f32(32), null, 1, f32(64), new Float32Array(2 * 4 * 3 * 8), new Float32Array(17), 2, 4, 1, 8, 1),
      /mhaAttentionDropoutGrad: scratch has 17 elements, but \[B, T, H, D\] \[2, 4, 1, 8\] needs 16/,
    ],
    [
      "dropout flags for fewer heads",
      () => addon.mhaAttentionDropout(f32(2 * 4 * 3 * 2 * 8), new Float32Array(2 * 4 * 2 * 8), new Float32Array(2 * 2 * 16), new Uint8Array(2 * 16), 0.9, 2, 4, 2, 8, 1),
      /mhaAttentionDropout: mask has 32 elements, but \[B, T, H, D\] \[2, 4, 2, 8\] needs 64/,
    ],
    [
      "multi-head attention qkv for another head count",
      () => addon.mhaAttentionDropout(f32(2 * 4 * 3 * 2 * 8), new Float32Array(2 * 4 * 3 * 8), new Float32Array(2 * 3 * 16), null, 1, 2, 4, 3, 8, 1),
      /mhaAttentionDropout: qkv has 384 elements, but \[B, T, H, D\] \[2, 4, 3, 8\] needs 576/,
    ],
    [
      "a linear's bias one longer than its width",
      () => addon.matmul(f32(3 * 5), f32(4 * 5), new Float32Array(12), f32(5), null, null, MATMUL(3, 4, 5), 0),
      /^babygpt native: matmul: bias has 5 elements, but \[M, N\] rows of width N = \[3, 4\] needs 4$/,
    ],
    [
      "a matmul operand larger than its shape",
      () => addon.matmul(f32(3 * 5 + 1), f32(4 * 5), new Float32Array(12), null, null, null, MATMUL(3, 4, 5), 0),
      /matmul: a has 16 elements, but a's shape \[1, 3, 5\] needs 15/,
    ],
    [
      "a matmul output larger than the product",
      () => addon.matmul(f32(15), f32(20), new Float32Array(13), null, null, null, MATMUL(3, 4, 5), 0),
      /matmul: c has 13 elements, but \[batch, M, N\] \[1, 3, 4\] needs 12/,
    ],
    [
      "layerNorm gamma of another width",
      () => addon.layerNorm(f32(24), f32(7), f32(8), new Float32Array(24), new Float32Array(3), new Float32Array(3), 8, 1e-5),
      /layerNorm: gamma has 7 elements, but x \[3, 8\] needs 8/,
    ],
    [
      "layerNorm statistics for more rows",
      () => addon.layerNorm(f32(24), f32(8), f32(8), new Float32Array(24), new Float32Array(4), new Float32Array(3), 8, 1e-5),
      /layerNorm: mean has 4 elements, but x \[3, 8\] needs 3/,
    ],
    [
      "rmsNorm gamma of another width",
      () => addon.rmsNorm(f32(24), f32(7), new Float32Array(24), new Float32Array(3), 8, 1e-5),
      /rmsNorm: gamma has 7 elements, but x \[3, 8\] needs 8/,
    ],
    [
      "rmsNormGrad statistics for fewer rows",
      () => addon.rmsNormGrad(f32(24), f32(8), f32(2), f32(24), new Float32Array(24), new Float32Array(8), 8),
      /rmsNormGrad: rstd has 2 elements, but x \[3, 8\] needs 3/,
    ],
    [
      "gatedActivation up of another size",
      () => addon.gatedActivation(f32(24), f32(23), new Float32Array(24), 2),
      /gatedActivation: up has 23 elements, but gate \[24\] needs 24/,
    ],
    [
      "gatedActivationGrad dup of another size",
      () => addon.gatedActivationGrad(f32(24), f32(24), f32(24), new Float32Array(24), new Float32Array(25), 2),
      /gatedActivationGrad: dup has 25 elements, but gate \[24\] needs 24/,
    ],
    [
      "gatedActivation an unknown activation",
      () => addon.gatedActivation(f32(24), f32(24), new Float32Array(24), 4),
      /gatedActivation: unknown activation 4/,
    ],
    [
      "causalAttention keys for another kv head count",
      () => addon.causalAttention(f32(4 * 4 * 2), f32(4 * 2), f32(2 * 4 * 2), new Float32Array(32), new Float32Array(64), null, 1, Int32Array.of(1, 4, 2, 4, 4, 2), 1),
      /causalAttention: k has 8 elements, but \[B, H, KV, Tq, Tk, D\] \[1, 4, 2, 4, 4, 2\] needs 16/,
    ],
    [
      "causalAttention kv heads that do not divide the query heads",
      () => addon.causalAttention(f32(3 * 4 * 2), f32(2 * 4 * 2), f32(2 * 4 * 2), new Float32Array(24), new Float32Array(48), null, 1, Int32Array.of(1, 3, 2, 4, 4, 2), 1),
      /causalAttention: 2 key\/value heads do not divide 3 query heads/,
    ],
    [
      "causalAttention with fewer keys than queries",
      () => addon.causalAttention(f32(4 * 2), f32(3 * 2), f32(3 * 2), new Float32Array(8), new Float32Array(12), null, 1, Int32Array.of(1, 1, 1, 4, 3, 2), 1),
      /causalAttention: 3 keys for 4 queries/,
    ],
    [
      "causalAttentionGrad dk for a kv head per query head",
      () =>
        addon.causalAttentionGrad(f32(32), f32(16), f32(16), f32(64), null, 1, f32(32), new Float32Array(32), new Float32Array(32), new Float32Array(16), Int32Array.of(1, 4, 2, 4, 4, 2), 1),
      /causalAttentionGrad: dk has 32 elements, but \[B, H, KV, Tq, Tk, D\] \[1, 4, 2, 4, 4, 2\] needs 16/,
    ],
    // Score shaping (window, slopes, softcap, capGrad after an attention call's own arguments).
    [
      "causalAttention ALiBi slopes for the kv heads instead of the query heads",
      () => addon.causalAttention(f32(32), f32(16), f32(16), new Float32Array(32), new Float32Array(64), null, 1, Int32Array.of(1, 4, 2, 4, 4, 2), 1, 0, Float64Array.of(0.5, 0.25), 0, null),
      /causalAttention: slopes has 2 elements, but \[B, H, KV, Tq, Tk, D\] \[1, 4, 2, 4, 4, 2\] needs 4/,
    ],
    [
      "causalAttention ALiBi slopes as float32",
      () => addon.causalAttention(f32(32), f32(16), f32(16), new Float32Array(32), new Float32Array(64), null, 1, Int32Array.of(1, 4, 2, 4, 4, 2), 1, 0, f32(4) as unknown as Float64Array, 0, null),
      /causalAttention: slopes is a Float32Array, expected a Float64Array/,
    ],
    [
      "causalAttention an ALiBi slope that is not a number",
      () => addon.causalAttention(f32(32), f32(16), f32(16), new Float32Array(32), new Float32Array(64), null, 1, Int32Array.of(1, 4, 2, 4, 4, 2), 1, 0, Float64Array.of(0.5, Number.NaN, 0.1, 0.1), 0, null),
      /causalAttention: slopes\[1\] is nan, expected a finite number/,
    ],
    [
      "causalAttention the cap's derivative for another key count",
      () => addon.causalAttention(f32(32), f32(16), f32(16), new Float32Array(32), new Float32Array(64), null, 1, Int32Array.of(1, 4, 2, 4, 4, 2), 1, 0, null, 2, new Float32Array(48)),
      /causalAttention: capGrad has 48 elements, but \[B, H, KV, Tq, Tk, D\] \[1, 4, 2, 4, 4, 2\] needs 64/,
    ],
    [
      "causalAttentionGrad with a cap but without the cap's derivative",
      () =>
        addon.causalAttentionGrad(f32(32), f32(16), f32(16), f32(64), null, 1, f32(32), new Float32Array(32), new Float32Array(16), new Float32Array(16), Int32Array.of(1, 4, 2, 4, 4, 2), 1, 0, null, 2, null),
      /causalAttentionGrad: with a softcap the gradient needs capGrad/,
    ],
    [
      "causalAttention part of the score shaping",
      () => addon.causalAttention(f32(32), f32(16), f32(16), new Float32Array(32), new Float32Array(64), null, 1, Int32Array.of(1, 4, 2, 4, 4, 2), 1, ...([3, null] as unknown as [])),
      /causalAttention: score shaping takes 4 arguments \(window, slopes, softcap, capGrad\), got 2/,
    ],
    [
      "mhaAttentionDropout a negative cap",
      () => addon.mhaAttentionDropout(f32(2 * 4 * 3 * 8), new Float32Array(2 * 4 * 8), new Float32Array(2 * 4 * 4), null, 1, 2, 4, 1, 8, 1, 0, null, -1, null),
      /mhaAttentionDropout: softcap is -1, expected a finite number >= 0/,
    ],
    [
      "mhaAttentionDropout a window that is not a whole number",
      () => addon.mhaAttentionDropout(f32(2 * 4 * 3 * 8), new Float32Array(2 * 4 * 8), new Float32Array(2 * 4 * 4), null, 1, 2, 4, 1, 8, 1, 2.5, null, 0, null),
      /mhaAttentionDropout: window is 2.5, expected a whole number from 0 to 2\^40/,
    ],
    [
      "mhaAttentionDropoutGrad the cap's derivative of another head count",
      () =>
        addon.mhaAttentionDropoutGrad(f32(2 * 4 * 3 * 8), f32(32), null, 1, f32(64), new Float32Array(2 * 4 * 3 * 8), new Float32Array(16), 2, 4, 1, 8, 1, 0, null, 3, new Float32Array(64)),
      /mhaAttentionDropoutGrad: capGrad has 64 elements, but \[B, T, H, D\] \[2, 4, 1, 8\] needs 32/,
    ],
    [
      "rope tables with fewer positions than asked for",
      () => addon.rope(f32(2 * 4 * 6), f32(5 * 2), f32(5 * 2), new Float32Array(48), Int32Array.of(2, 4, 6, 5, 2, 2), false),
      /rope: positions 2 to 5 are past the tables' 5/,
    ],
    [
      "rope sin table of another width",
      () => addon.rope(f32(2 * 4 * 6), f32(4 * 2), f32(4 * 3), new Float32Array(48), Int32Array.of(2, 4, 6, 4, 2, 0), false),
      /rope: sin has 12 elements, but \[N, T, hs, P, half, offset\] \[2, 4, 6, 4, 2, 0\] needs 8/,
    ],
    [
      "rope rotating more features than a head has",
      () => addon.rope(f32(2 * 4 * 6), f32(4 * 4), f32(4 * 4), new Float32Array(48), Int32Array.of(2, 4, 6, 4, 4, 0), false),
      /rope: 4 rotated pairs do not fit in a head of 6/,
    ],
    [
      "a unary op's output longer than its input",
      () => addon.unary(0, f32(10), new Float32Array(11), 0),
      /unary: out has 11 elements, but x \[10\] needs 10/,
    ],
    [
      "a reduction's input longer than its shape",
      () => addon.reduce(0, f32(25), new Float32Array(4), 2, 3, 4),
      /reduce: x has 25 elements, but \[outer, mid, inner\] \[2, 3, 4\] needs 24/,
    ],
    [
      "an optimizer moment of another size",
      () => addon.optimizerStep(new Float64Array(13).fill(0.5), [f32(4)], [f32(4)], [f32(4)], [f32(5)]),
      /optimizerStep: parameter 0 has 4 elements, its gradient 4 \(or a moment differs\)/,
    ],
    [
      "a size that is not a whole number",
      () => addon.softmax(f32(6), new Float32Array(6), 2.5, 2, false),
      /softmax: rows is 2.5, expected a whole number from 0 to 2\^40/,
    ],
    [
      "a negative size",
      () => addon.softmax(f32(6), new Float32Array(6), -3, -2, false),
      /softmax: rows is -3, expected a whole number/,
    ],
    [
      "sizes whose product overflows 64 bits",
      () => addon.mhaAttentionDropout(f32(0), new Float32Array(0), new Float32Array(0), null, 1, 2 ** 40, 2 ** 40, 2 ** 40, 1, 1),
      /mhaAttentionDropout: sizes too large/,
    ],
    [
      "a wrong element type",
      () => addon.crossEntropy(f32(780), Float32Array.from(i32(12, 65)) as unknown as Int32Array, new Float32Array(780), 65),
      /crossEntropy: targets is a Float32Array, expected a Int32Array/,
    ],
  ];

  it.each(mismatches)("%s is an error naming the op and the shapes", (_what, call, message) => {
    expect(call).toThrow(message);
  });

  it("nothing is written when the call is refused", () => {
    const out = new Float32Array(11).fill(7);
    expect(() => addon.unary(0, f32(10), out, 0)).toThrow();
    expect(Array.from(out)).toEqual(new Array(11).fill(7));
  });

  it("a scratch allocation that fails is an out-of-memory Error, and the next call gives the right answer", () => {
    const x = f32(2 * 300 * 5);
    const want = new Float32Array(10);
    addon.reduce(0, x, want, 2, 300, 5);
    const calls: [string, () => unknown][] = [
      ["reduce", () => addon.reduce(0, x, new Float32Array(10), 2, 300, 5)],
      ["layerNormGrad", () => addon.layerNormGrad(f32(24), f32(8), f32(3), f32(3), f32(24), new Float32Array(24), new Float32Array(8), new Float32Array(8), 8)],
      ["rmsNormGrad", () => addon.rmsNormGrad(f32(24), f32(8), f32(3), f32(24), new Float32Array(24), new Float32Array(8), 8)],
      ["causalAttentionGrad", () => addon.causalAttentionGrad(f32(32), f32(16), f32(16), f32(64), null, 1, f32(32), new Float32Array(32), new Float32Array(16), new Float32Array(16), Int32Array.of(1, 4, 2, 4, 4, 2), 1)],
      ["sumSquares", () => addon.sumSquares([f32(5), f32(6)], new Float32Array(2))],
      ["optimizerStep", () => addon.optimizerStep(new Float64Array(13), [f32(4)], [f32(4)], null, null)],
      ["headDropoutMasks", () => addon.headDropoutMasks(Float64Array.of(1, 2), new Uint8Array(2 * 2 * 9), 2, 2, 3, 0.9)],
      // The portable kernel's packing buffers grow on first use at this size in this process.
      ["sgemm", () => addon.sgemm(3, false, false, 700, 700, 300, 1, f32(700 * 300), 300, f32(300 * 700), 700, 0, new Float32Array(700 * 700), 700)],
    ];
    for (const [op, call] of calls) {
      addon.failAllocationAfter(1);
      expect(call, op).toThrow(new RegExp(`^babygpt native: ${op}: out of memory`));
      expect(call, `${op} once memory is back`).not.toThrow();
    }
    addon.failAllocationAfter(0);
    const again = new Float32Array(10);
    addon.reduce(0, x, again, 2, 300, 5);
    expect(Array.from(again)).toEqual(Array.from(want));
  });

  it("LayerNorm's statistics stay exact at an input offset of 1e4 (accumulated in double), as the tf ops compute them", async () => {
    const [rows, C] = [64, 128];
    const x = Float32Array.from({ length: rows * C }, () => 1e4 + rng.nextNormal());
    const gamma = new Float32Array(C).fill(1);
    const beta = new Float32Array(C);
    const y = new Float32Array(rows * C);
    addon.layerNorm(x, gamma, beta, y, new Float32Array(rows), new Float32Array(rows), C, 1e-5);
    // The reference: tf.moments on the cpu backend (its sums are JavaScript doubles).
    await tf.setBackend("cpu");
    const ref = tf.tidy(() => layerNorm(tf.tensor2d(x, [rows, C]), tf.tensor1d(gamma), tf.tensor1d(beta), 1e-5).dataSync());
    let worst = 0;
    for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i]! - ref[i]!));
    // Both round the same double-precision mean to float32: they agree to float32 rounding (a few 1e-7).
    // A float32 running sum of the 128 values near 1e4 puts the mean off by about 0.2% of a standard
    // deviation here (2e-3 in y), which this catches.
    expect(worst).toBeLessThan(1e-5);
  });
});

// The native backend (runtime/native) against the cpu backend: every native kernel on random inputs
// (transposes, broadcasting, odd shapes, other dtypes that fall back), no tensor leaks across steps, and
// arrays handed out by dataSync staying intact while the backend recycles memory. The ops' kernels
// (runtime/native/fused.ts) are tested in ops.test.ts.
//
// Skipped, with the reason in the suite's name, where the addon is not built (no g++ or OpenBLAS).
import { describe, expect, it } from "vitest";
import { models } from "../../generated/index.js";
import { selectBackend } from "../../runtime/backend/select.js";
import { nativeFallbackCounts, nativeKernelNames } from "../../runtime/native/backend.js";
import { tf } from "../../runtime/nn/tf.js";
import { nativeUnavailable } from "../helpers/native.js";
import { onBoth, relErr, TestData, expectSame } from "./compare.js";

const skipReason = nativeUnavailable();

const data = new TestData(20240611);
const randn = (shape: number[], scale = 1): Float32Array => data.randn(shape, scale);
const randint = (n: number, max: number): Int32Array => data.randint(n, max);

describe.skipIf(skipReason !== undefined)(`native backend${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  it("registers every cpu kernel, natively or as a fallback", () => {
    const cpu = tf.getKernelsForBackend("cpu").map((k) => k.kernelName);
    const native = new Set(tf.getKernelsForBackend("native").map((k) => k.kernelName));
    for (const name of cpu) expect(native.has(name), name).toBe(true);
    for (const name of nativeKernelNames()) expect(native.has(name), name).toBe(true);
  });

  it("is auto's first choice", async () => {
    const info = await selectBackend("auto");
    expect(info.name).toBe("native");
    expect(tf.getBackend()).toBe("native");
  });

  const shapePairs: Array<[number[], number[]]> = [
    [[3, 5, 7], [3, 5, 7]],
    [[2, 3, 4], [4]],
    [[2, 3, 4], [2, 1, 4]],
    [[2, 3, 4], [2, 3, 1]],
    [[2, 1, 4], [3, 1]],
    [[5], []],
    [[], [6]],
    [[1], [7]],
    [[2, 3, 1, 5], [3, 4, 1]],
    [[1, 2, 1, 3, 1, 2], [2, 1, 3, 4, 1]],
  ];
  const binaries: Array<[string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor]> = [
    ["add", tf.add],
    ["sub", tf.sub],
    ["mul", tf.mul],
    ["div", tf.div],
    ["maximum", tf.maximum],
    ["minimum", tf.minimum],
    ["squaredDifference", tf.squaredDifference],
  ];
  for (const [name, op] of binaries) {
    it(`${name} broadcasts as the cpu backend does`, async () => {
      for (const [sa, sb] of shapePairs) {
        const a = randn(sa);
        const b = name === "div" ? randn(sb).map((v) => v + Math.sign(v) * 0.5) : randn(sb);
        await expectSame(() => op(tf.tensor(a, sa), tf.tensor(b, sb)), 1e-6);
      }
    });
  }

  it("pow, and int32 arithmetic through the cpu fallback", async () => {
    const base = randn([4, 5]).map((v) => Math.abs(v) + 0.1);
    const exponent = randn([5]);
    await expectSame(() => tf.pow(tf.tensor(base, [4, 5]), tf.tensor(exponent, [5])), 1e-6);
    const ia = randint(12, 100);
    const ib = randint(3, 100);
    await expectSame(() => [tf.add(tf.tensor(ia, [4, 3], "int32"), tf.tensor(ib, [3], "int32")), tf.neg(tf.tensor(ia, [12], "int32"))], 0);
  });

  const unaries: Array<[string, (x: tf.Tensor) => tf.Tensor, "any" | "positive"]> = [
    ["exp", tf.exp, "any"],
    ["log", tf.log, "positive"],
    ["neg", tf.neg, "any"],
    ["sqrt", tf.sqrt, "positive"],
    ["rsqrt", tf.rsqrt, "positive"],
    ["square", tf.square, "any"],
    ["relu", tf.relu, "any"],
    ["relu6", tf.relu6, "any"],
    ["erf", tf.erf, "any"],
    ["abs", tf.abs, "any"],
    ["sigmoid", tf.sigmoid, "any"],
    ["tanh", tf.tanh, "any"],
    ["reciprocal", tf.reciprocal, "positive"],
    ["elu", tf.elu, "any"],
    ["leakyRelu", (x) => tf.leakyRelu(x, 0.1), "any"],
    ["log1p", tf.log1p, "positive"],
    ["expm1", tf.expm1, "any"],
    ["softplus", tf.softplus, "any"],
    ["step", (x) => tf.step(x, 0.3), "any"],
    ["sign", tf.sign, "any"],
    ["floor", tf.floor, "any"],
    ["ceil", tf.ceil, "any"],
    ["sin", tf.sin, "any"],
    ["cos", tf.cos, "any"],
  ];
  it("unary ops match the cpu backend", async () => {
    for (const [name, op, domain] of unaries) {
      const x = randn([3, 37], 3).map((v) => (domain === "positive" ? Math.abs(v) + 1e-3 : v));
      x[0] = 0;
      x[1] = -0;
      if (name === "exp") x[2] = -1e9; // masked scores: exactly 0
      const [cpu, native] = await onBoth(() => op(tf.tensor(x, [3, 37])));
      expect(relErr(native[0]!.values, cpu[0]!.values), name).toBeLessThanOrEqual(3e-7);
      if (name === "exp") expect(native[0]!.values[2]).toBe(0);
    }
  });

  it("reductions over any axes, with and without keepDims", async () => {
    const shape = [3, 4, 5, 2];
    const x = randn(shape);
    const axesList: Array<number | number[]> = [-1, 0, 1, 2, [1, 2], [0, 2], [0, 3], [0, 1, 2, 3], [1, 3]];
    for (const axis of axesList) {
      for (const keepDims of [false, true]) {
        await expectSame(
          () => [
            tf.sum(tf.tensor(x, shape), axis, keepDims),
            tf.mean(tf.tensor(x, shape), axis, keepDims),
            tf.max(tf.tensor(x, shape), axis, keepDims),
            tf.min(tf.tensor(x, shape), axis, keepDims),
            tf.prod(tf.tensor(x, shape), axis, keepDims),
          ],
          1e-6,
        );
      }
    }
    for (const axis of [0, 1, 2, 3]) {
      await expectSame(() => [tf.argMax(tf.tensor(x, shape), axis), tf.argMin(tf.tensor(x, shape), axis)], 0);
    }
    const withNaN = x.slice();
    withNaN[7] = Number.NaN;
    for (const axis of [-1, 0, [1, 2]]) {
      await expectSame(() => [tf.max(tf.tensor(withNaN, shape), axis), tf.min(tf.tensor(withNaN, shape), axis), tf.sum(tf.tensor(withNaN, shape), axis)], 1e-6);
    }
  });

  it("softmax over the last axis, including masked (-1e9) entries", async () => {
    const x = randn([2, 5, 13], 4);
    for (let i = 0; i < x.length; i += 3) x[i] = -1e9;
    await expectSame(() => tf.softmax(tf.tensor(x, [2, 5, 13])), 3e-7);
    const y = randn([7, 65]);
    await expectSame(() => tf.logSoftmax(tf.tensor(y, [7, 65])), 3e-7);
  });

  it("matMul with every transpose combination, batch broadcasting and odd sizes", async () => {
    const cases: Array<[number[], number[]]> = [
      [[7, 5], [5, 3]],
      [[1, 1], [1, 1]],
      [[4, 13, 6], [4, 6, 9]],
      [[2, 3, 4], [4, 5]],
      [[3, 4], [2, 4, 5]],
      [[1, 3, 4], [2, 4, 5]],
      [[2, 1, 3, 4], [3, 4, 5]],
      [[3, 1, 2, 4], [1, 2, 4, 3]],
    ];
    for (const [sa, sb] of cases) {
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          const ta = transposeA ? [...sa.slice(0, -2), sa.at(-1)!, sa.at(-2)!] : sa;
          const tb = transposeB ? [...sb.slice(0, -2), sb.at(-1)!, sb.at(-2)!] : sb;
          const a = randn(ta);
          const b = randn(tb);
          // The native product of the operands as they are, against the cpu backend's product of the
          // operands broadcast to the full batch shape first: the cpu kernel maps batches by index
          // modulo each operand's count, which is broadcasting only when one side's batch is a single
          // matrix or the batch shapes agree ([3,1] against [1,2] is neither).
          const batch = tf.backend_util.assertAndGetBroadcastShape(sa.slice(0, -2), sb.slice(0, -2));
          const tiled = (x: tf.Tensor): tf.Tensor => tf.broadcastTo(x, [...batch, ...x.shape.slice(-2)]);
          const [, native] = await onBoth(() => tf.matMul(tf.tensor(a, ta), tf.tensor(b, tb), transposeA, transposeB));
          const [cpuTiled] = await onBoth(() => tf.matMul(tiled(tf.tensor(a, ta)), tiled(tf.tensor(b, tb)), transposeA, transposeB));
          expect(native[0]!.shape).toEqual(cpuTiled[0]!.shape);
          expect(relErr(native[0]!.values, cpuTiled[0]!.values)).toBeLessThanOrEqual(1e-6);
        }
      }
    }
  });

  it("fused matMul with bias shapes and activations; prelu falls back", async () => {
    const a = randn([2, 6, 5]);
    const b = randn([5, 7]);
    const activations = ["linear", "relu", "relu6", "sigmoid", "leakyrelu", "elu"] as const;
    for (const activation of activations) {
      for (const biasShape of [[7], [6, 7], [1, 1, 7], [2, 6, 1]]) {
        const bias = randn(biasShape);
        await expectSame(
          () =>
            tf.fused.matMul({
              a: tf.tensor(a, [2, 6, 5]),
              b: tf.tensor(b, [5, 7]),
              bias: tf.tensor(bias, biasShape),
              activation,
              leakyreluAlpha: 0.15,
            }),
          1e-6,
        );
      }
    }
    const alpha = randn([7]);
    await expectSame(
      () =>
        tf.fused.matMul({
          a: tf.tensor(a, [2, 6, 5]),
          b: tf.tensor(b, [7, 5].reverse()),
          activation: "prelu",
          preluActivationWeights: tf.tensor(alpha, [7]),
        }),
      1e-6,
    );
    const at = randn([5, 6]);
    const bias = randn([7]);
    await expectSame(() => tf.fused.matMul({ a: tf.tensor(at, [5, 6]), b: tf.tensor(b, [5, 7]), transposeA: true, bias: tf.tensor(bias, [7]) }), 1e-6);
  });

  it("transpose, concat, split, slice, pad on float32 and int32", async () => {
    const shape = [2, 3, 4, 5];
    const x = randn(shape);
    const xi = randint(120, 1000);
    const perms = [[0, 1, 2, 3], [3, 2, 1, 0], [0, 2, 1, 3], [1, 0, 3, 2], [0, 1, 3, 2], [2, 0, 3, 1]];
    for (const perm of perms) {
      await expectSame(() => [tf.transpose(tf.tensor(x, shape), perm), tf.transpose(tf.tensor(xi, shape, "int32"), perm)], 0);
    }
    const m = randn([37, 53]);
    await expectSame(() => tf.transpose(tf.tensor(m, [37, 53])), 0);
    const x2 = randn(shape);
    for (const axis of [0, 1, 2, 3, -1]) {
      await expectSame(
        () => [
          tf.concat([tf.tensor(x, shape), tf.tensor(x2, shape), tf.tensor(x, shape)], axis),
          tf.concat([tf.tensor(xi, shape, "int32"), tf.tensor(xi, shape, "int32")], axis),
          ...tf.split(tf.tensor(x, shape), axis === 3 || axis === -1 ? [1, 4] : [1, shape[axis]! - 1], axis),
        ],
        0,
      );
    }
    await expectSame(() => tf.split(tf.tensor(x, shape), 2, 0), 0);
    await expectSame(
      () => [
        tf.slice(tf.tensor(x, shape), [1, 0, 0, 0], [1, 3, 4, 5]), // contiguous
        tf.slice(tf.tensor(x, shape), [0, 1, 1, 2], [2, 2, 3, 3]), // strided
        tf.slice(tf.tensor(xi, shape, "int32"), [0, 1, 0, 1], [-1, 1, -1, 4]),
        tf.pad(tf.tensor(x, shape), [[0, 1], [2, 0], [1, 1], [0, 3]], 0.5),
        tf.pad(tf.tensor(x, shape), [[1, 0], [0, 0], [0, 0], [0, 0]]),
      ],
      0,
    );
  });

  it("gather, unsortedSegmentSum and oneHot", async () => {
    const table = randn([11, 6]);
    const idx = randint(15, 11);
    const cols = randint(4, 6);
    const itable = randint(66, 9);
    await expectSame(
      () => [
        tf.gather(tf.tensor(table, [11, 6]), tf.tensor(idx, [3, 5], "int32")),
        tf.gather(tf.tensor(table, [11, 6]), tf.tensor(cols, [4], "int32"), 1),
        tf.gather(tf.tensor(itable, [11, 6], "int32"), tf.tensor(idx, [15], "int32")),
      ],
      0,
    );
    const ids = randint(15, 13).map((v) => v - 1); // -1 is dropped, as in TensorFlow
    const data = randn([15, 4]);
    await expectSame(() => tf.unsortedSegmentSum(tf.tensor(data, [15, 4]), tf.tensor(ids, [15], "int32"), 11), 1e-6);
    const hot = randint(10, 8).map((v) => v - 1);
    await expectSame(() => tf.oneHot(tf.tensor(hot, [2, 5], "int32"), 7, 2, -1), 0);
    await tf.setBackend("native");
    expect(() => tf.gather(tf.tensor(table, [11, 6]), tf.tensor([3, 11], [2], "int32"))).toThrow(/index value 11/);
  });

  it("embedding gradients (gather → unsortedSegmentSum) and reductions' and softmax's gradients", async () => {
    const table = randn([9, 4]);
    const idx = randint(12, 9);
    await expectSame(() => {
      const t = tf.tensor(table, [9, 4]);
      const g = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.gather(w, tf.tensor(idx, [3, 4], "int32")), 1.5)));
      return g(t);
    }, 1e-6);
    // Mean, Sum and Softmax have native gradients on this backend (runtime/native/gradients.ts).
    const shape = [3, 4, 5];
    const x = randn(shape);
    const w = randn(shape);
    for (const axis of [-1, 0, 1, [0, 2], [0, 1, 2]]) {
      for (const keepDims of [false, true]) {
        await expectSame(() => {
          const weighted = (f: (t: tf.Tensor) => tf.Tensor) => (t: tf.Tensor) => tf.sum(tf.mul(tf.square(f(t)), 0.5));
          const t = tf.tensor(x, shape);
          return [
            tf.grad(weighted((t) => tf.mean(t, axis, keepDims)))(t),
            tf.grad(weighted((t) => tf.sum(t, axis, keepDims)))(t),
          ];
        }, 1e-6);
      }
    }
    await expectSame(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.softmax(t), tf.tensor(w, shape))))(tf.tensor(x, shape)), 1e-6);
  });

  it("runs float32 work natively: no cpu fallbacks in a training step", async () => {
    await tf.setBackend("native");
    const before = nativeFallbackCounts();
    const model = models["baby-gpt"].createModel({ vocabSize: 65 });
    const idx = tf.tensor2d(randint(32, 65), [2, 16], "int32");
    const { value, grads } = tf.variableGrads(() => model.forward(idx, idx).loss!, model.namedParameters().map(([, v]) => v));
    tf.dispose([value, idx, ...Object.values(grads)]);
    model.dispose();
    expect(nativeFallbackCounts()).toEqual(before);
  });

  it("does not leak tensors across training steps", async () => {
    await tf.setBackend("native");
    const model = models["baby-gpt"].createModel({ vocabSize: 65 });
    const vars = model.namedParameters().map(([, v]) => v);
    const idx = tf.randomUniformInt([2, 16], 0, 65);
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { value, grads } = tf.variableGrads(() => model.forward(idx as tf.Tensor2D, idx as tf.Tensor2D).loss!, vars);
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts).size).toBe(1);
    idx.dispose();
    model.dispose();
  });

  it("keeps arrays returned by dataSync intact after their tensor is disposed", async () => {
    await tf.setBackend("native");
    const a = tf.tensor(randn([64, 64]), [64, 64]);
    const t = tf.matMul(a, a);
    const seen = t.dataSync();
    const copy = seen.slice();
    t.dispose();
    // The same shapes again: the backend would reuse a freed array of this size if it could.
    for (let i = 0; i < 5; i++) tf.dispose([tf.matMul(a, a), tf.add(a, a)]);
    expect(Array.from(seen)).toEqual(Array.from(copy));
    // A slice shares its input's buffer; the input's array must not be reused while the slice lives.
    const big = tf.add(a, 1);
    const view = tf.slice(big, [0, 0], [32, 64]);
    const expected = view.dataSync().slice();
    big.dispose();
    for (let i = 0; i < 5; i++) tf.dispose(tf.add(a, 2));
    expect(Array.from(view.dataSync())).toEqual(Array.from(expected));
    tf.dispose([a, view]);
  });
});

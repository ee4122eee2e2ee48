// Fuzzes the native addon's bindings with random shapes, zero-size ones included, and with operands
// that do not fit together: every call must either throw a clean Error ("babygpt native: <op>: ...")
// or give what the same computation in plain tf ops gives on the cpu backend. Run by
// test/native/fuzz.test.ts in a process of its own, so that a crash is a failed test, not a dead test
// runner; it names each case on stderr before running it, so that the case that crashed is known.
//
//   node --import tsx test/native/fuzz-bindings.ts [--seed N] [--cases N]
//
// Cases come in three kinds, in turn:
//   fit       operands of consistent sizes: the call must succeed and match the reference
//   misfit    one array's length changed (or its element type): the call must throw a clean Error
//   extreme   one size argument replaced by a huge, fractional, negative or NaN value: a clean Error, or
//             success where the value still describes empty arrays; never a crash
// Prints a JSON summary on stdout; exits 1 when a case failed.
import { parseArgs } from "node:util";
import { loadAddon, type NativeAddon } from "../../runtime/native/addon.js";
import { tf } from "../../runtime/nn/tf.js";
import { causalAttention, rmsNorm, rope } from "../../runtime/ops/index.js";
import { alibiSlopes, type ScoreShaping } from "../../runtime/ops/score-shaping.js";
import { Prng } from "../../runtime/random.js";

const { values: opts } = parseArgs({ options: { seed: { type: "string", default: "1" }, cases: { type: "string", default: "400" } } });
const rng = new Prng(Number(opts.seed));
const addon: NativeAddon = loadAddon();
await tf.setBackend("cpu");
(tf.backend() as unknown as { firstUse: boolean }).firstUse = false;

type Arr = Float32Array | Int32Array | Uint8Array | Float64Array;

/** One generated call: its arguments, which array arguments may be changed, and the reference. */
interface Call {
  readonly op: string;
  readonly args: unknown[];
  /** Indices of array arguments whose length the other arguments fix (a misfit changes one of these). */
  readonly dependent: readonly number[];
  /** Indices of plain size arguments (an extreme case changes one of these). */
  readonly sizes: readonly number[];
  /** Output array argument indices, compared with the reference, in order. */
  readonly outputs: readonly number[];
  /** The expected outputs (and the returned value, if any, last), or undefined where tf refuses. */
  readonly reference: () => (ArrayLike<number> | number)[] | undefined;
  /** The call may refuse even fitting operands (a degenerate size, say): then an Error is fine. */
  readonly mayRefuse?: boolean;
}

const DIMS = [0, 1, 1, 2, 2, 3, 3, 4, 5, 7, 8, 13, 17];
const dim = (): number => DIMS[rng.nextInt(DIMS.length)]!;
const posDim = (): number => 1 + rng.nextInt(9);
const randn = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.nextNormal());
const ints = (n: number, max: number): Int32Array => Int32Array.from({ length: n }, () => rng.nextInt(Math.max(max, 1)));
/** An output array, full of NaN so that an element the kernel forgot to write shows. */
const out = (n: number): Float32Array => new Float32Array(n).fill(Number.NaN);
const vals = (t: tf.Tensor): Float32Array => t.dataSync() as Float32Array;

/** Runs f in a tidy scope and returns its outputs' values; undefined when tf itself refuses. */
function ref(f: () => tf.Tensor[]): ArrayLike<number>[] | undefined {
  try {
    return tf.tidy(() => f().map((t) => vals(t).slice()));
  } catch {
    return undefined;
  }
}

function causal(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, scale: number): tf.Tensor3D {
  const T = q.shape[1];
  const scores = tf.mul(tf.matMul(q, k, false, true), scale);
  const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0);
  const masked = tf.add(tf.mul(scores, mask), tf.mul(tf.sub(1, mask), -1e9));
  return tf.matMul(tf.softmax(masked), v) as tf.Tensor3D;
}

function layerNormRef(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), gamma), beta) as tf.Tensor2D;
}

/** A random score shaping for H query heads over T keys: a window, slopes (ALiBi's or random), a cap, each about half the time. */
function randomShaping(H: number, T: number): ScoreShaping {
  const window = rng.nextFloat() < 0.5 ? 1 + rng.nextInt(T + 2) : 0;
  const slopes = rng.nextFloat() < 0.5 ? (rng.nextFloat() < 0.5 ? alibiSlopes(H) : Array.from({ length: H }, () => rng.nextFloat())) : [];
  const softcap = rng.nextFloat() < 0.5 ? 0.5 + 3 * rng.nextFloat() : 0;
  return { window, alibiSlopes: slopes, softcap };
}

/** The shaping's binding arguments (window, slopes, softcap, capGrad), capGrad an output of n floats where there is a cap. */
const shapingArgs = (s: ScoreShaping, n: number): unknown[] => [s.window, s.alibiSlopes.length > 0 ? Float64Array.from(s.alibiSlopes) : null, s.softcap, s.softcap > 0 ? out(n) : null];

/** Argument indices of the slopes and capGrad (when given) of shaping arguments starting at `at`: they must fit too. */
const shapingDependent = (args: unknown[], at: number): number[] => [at + 1, at + 3].filter((i) => args[i] !== null);

/** The heads of a fused projection qkv [B, T, 3·H·D] (per head its q, k, v columns) as q, k, v [B, H, T, D]. */
function headsOfQkv(x: tf.Tensor3D, H: number, D: number): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
  const [B, T] = x.shape;
  const part = (i: number): tf.Tensor4D => tf.stack(Array.from({ length: H }, (_, h) => tf.slice(x, [0, 0, (3 * h + i) * D], [B, T, D])), 1) as tf.Tensor4D;
  return [part(0), part(1), part(2)];
}

/** Every head's shaped attention of qkv [B, T, 3·H·D], side by side: [B, T, H·D], by the op's reference. */
function shapedHeads(x: tf.Tensor3D, H: number, D: number, scale: number, shaping: ScoreShaping): tf.Tensor3D {
  const [B, T] = x.shape;
  const [q, k, v] = headsOfQkv(x, H, D);
  return tf.reshape(tf.transpose(causalAttention(q, k, v, scale, 0, 0, shaping), [0, 2, 1, 3]), [B, T, H * D]);
}

const generators: Record<string, () => Call> = {
  unary: () => {
    const ops: [number, (x: tf.Tensor) => tf.Tensor][] = [
      [0, tf.exp],
      [2, tf.neg],
      [5, tf.square],
      [6, tf.relu],
      [9, tf.abs],
      [10, tf.sigmoid],
      [11, tf.tanh],
    ];
    const [op, f] = ops[rng.nextInt(ops.length)]!;
    const n = dim() * dim();
    const x = randn(n);
    return { op: "unary", args: [op, x, out(n), 0], dependent: [2], sizes: [], outputs: [2], reference: () => ref(() => [f(tf.tensor1d(x))]) };
  },
  binary: () => {
    const rank = rng.nextInt(5);
    const base = Array.from({ length: rank }, dim);
    const aShape = base.map((d) => (rng.nextFloat() < 0.3 ? 1 : d));
    const bShape = base.map((d, i) => (rng.nextFloat() < 0.3 && aShape[i] !== 1 ? 1 : d));
    const outShape = base.map((_, i) => (aShape[i] === 1 ? bShape[i]! : aShape[i]!)); // 1 against 0 is 0
    const size = (s: number[]): number => s.reduce((p, d) => p * d, 1);
    const fs: [number, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
      [0, tf.add],
      [1, tf.sub],
      [2, tf.mul],
      [4, tf.maximum],
    ];
    const [op, f] = fs[rng.nextInt(fs.length)]!;
    const a = randn(size(aShape));
    const b = randn(size(bShape));
    const params = Int32Array.from([rank, ...outShape, ...aShape, ...bShape]);
    return {
      op: "binary",
      args: [op, a, b, out(size(outShape)), params],
      dependent: [1, 2, 3],
      sizes: [],
      outputs: [3],
      reference: () => ref(() => [f(tf.tensor(a, aShape), tf.tensor(b, bShape))]),
    };
  },
  reduce: () => {
    const [outer, mid, inner] = [dim(), dim(), dim()];
    const fs: [number, (x: tf.Tensor) => tf.Tensor][] = [
      [0, (x) => tf.sum(x, 1)],
      [1, (x) => tf.mean(x, 1)],
      [2, (x) => tf.max(x, 1)],
      [3, (x) => tf.min(x, 1)],
    ];
    const [op, f] = fs[rng.nextInt(fs.length)]!;
    const x = randn(outer * mid * inner);
    const reference = (): ArrayLike<number>[] | undefined => ref(() => [f(tf.tensor3d(x, [outer, mid, inner]))]);
    return { op: "reduce", args: [op, x, out(outer * inner), outer, mid, inner], dependent: [1, 2], sizes: [3, 4, 5], outputs: [2], reference };
  },
  softmax: () => {
    const [rows, cols] = [dim(), posDim()];
    const log = rng.nextFloat() < 0.5;
    const x = randn(rows * cols);
    return {
      op: "softmax",
      args: [x, out(rows * cols), rows, cols, log],
      dependent: [0, 1],
      sizes: [2, 3],
      outputs: [1],
      reference: () => ref(() => [(log ? tf.logSoftmax : tf.softmax)(tf.tensor2d(x, [rows, cols]))]),
    };
  },
  softmaxGrad: () => {
    const [rows, cols] = [dim(), posDim()];
    const y = Float32Array.from(randn(rows * cols), Math.abs);
    const dy = randn(rows * cols);
    return {
      op: "softmaxGrad",
      args: [y, dy, out(rows * cols), rows, cols],
      dependent: [0, 1, 2],
      sizes: [3, 4],
      outputs: [2],
      reference: () =>
        ref(() => {
          const [yt, gt] = [tf.tensor2d(y, [rows, cols]), tf.tensor2d(dy, [rows, cols])];
          return [tf.mul(yt, tf.sub(gt, tf.sum(tf.mul(yt, gt), -1, true)))];
        }),
    };
  },
  matmul: () => {
    const [M, N, K] = [dim(), dim(), dim()];
    const batch = 1 + rng.nextInt(3);
    const bCount = rng.nextFloat() < 0.5 ? 1 : batch;
    const [transA, transB] = [rng.nextFloat() < 0.5, rng.nextFloat() < 0.5];
    const withBias = rng.nextFloat() < 0.5;
    const relu = rng.nextFloat() < 0.3;
    const a = randn(batch * M * K);
    const b = randn(bCount * K * N);
    const bias = withBias ? randn(N) : null;
    const params = Int32Array.of(batch, batch, bCount, M, N, K, transA ? 1 : 0, transB ? 1 : 0, relu ? 1 : 0, 0);
    return {
      op: "matmul",
      args: [a, b, out(batch * M * N), bias, null, null, params, 0],
      dependent: withBias ? [0, 1, 2, 3] : [0, 1, 2],
      sizes: [],
      outputs: [2],
      reference: () =>
        ref(() => {
          const at = tf.tensor3d(a, transA ? [batch, K, M] : [batch, M, K]);
          const bt = tf.tensor3d(b, transB ? [bCount, N, K] : [bCount, K, N]);
          let y: tf.Tensor = tf.matMul(at, bCount === 1 && batch > 1 ? tf.tile(bt, [batch, 1, 1]) : bt, transA, transB);
          if (bias) y = tf.add(y, tf.tensor1d(bias));
          return [relu ? tf.relu(y) : y];
        }),
    };
  },
  sgemm: () => {
    const [M, N, K] = [dim(), dim(), dim()];
    const [transA, transB] = [rng.nextFloat() < 0.5, rng.nextFloat() < 0.5];
    const kernel = [0, 1, 3][rng.nextInt(3)]!;
    const alpha = [1, 0.5, -2][rng.nextInt(3)]!;
    const beta = [0, 1, 0.25][rng.nextInt(3)]!;
    const a = randn(M * K);
    const b = randn(K * N);
    const c = randn(M * N);
    const lda = Math.max(1, transA ? M : K), ldb = Math.max(1, transB ? K : N), ldc = Math.max(1, N);
    const cOut = c.slice();
    return {
      op: "sgemm",
      args: [kernel, transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, cOut, ldc],
      dependent: [7, 9, 12],
      sizes: [3, 4, 5],
      outputs: [12],
      reference: () =>
        ref(() => {
          const at = tf.tensor2d(a, transA ? [K, M] : [M, K]);
          const bt = tf.tensor2d(b, transB ? [N, K] : [K, N]);
          return [tf.add(tf.mul(tf.matMul(at, bt, transA, transB), alpha), tf.mul(tf.tensor2d(c, [M, N]), beta))];
        }),
    };
  },
  transpose: () => {
    const rank = 1 + rng.nextInt(4);
    const shape = Array.from({ length: rank }, dim);
    const perm = Array.from({ length: rank }, (_, i) => i);
    for (let i = rank - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    const n = shape.reduce((p, d) => p * d, 1);
    const x = randn(n);
    return {
      op: "transpose",
      args: [x, out(n), Int32Array.from([rank, ...shape, ...perm])],
      dependent: [0, 1],
      sizes: [],
      outputs: [1],
      reference: () => ref(() => [tf.transpose(tf.tensor(x, shape), perm)]),
    };
  },
  slice: () => {
    const rank = 1 + rng.nextInt(3);
    const shape = Array.from({ length: rank }, dim);
    const begin = shape.map((d) => rng.nextInt(d + 1));
    const size = shape.map((d, i) => rng.nextInt(d - begin[i]! + 1));
    const n = shape.reduce((p, d) => p * d, 1);
    const m = size.reduce((p, d) => p * d, 1);
    const x = randn(n);
    const params = Int32Array.from([rank, ...size, ...shape, ...begin, ...size, ...size.map(() => 0)]);
    return {
      op: "copyRegion",
      args: [x, out(m), params],
      dependent: [0, 1],
      sizes: [],
      outputs: [1],
      reference: () => ref(() => [tf.slice(tf.tensor(x, shape), begin, size)]),
    };
  },
  gather: () => {
    const [outer, axisDim, inner, n] = [dim(), dim(), dim(), dim()];
    const x = randn(outer * axisDim * inner);
    const idx = ints(n, axisDim);
    const inRange = axisDim > 0 || n === 0;
    return {
      op: "gather",
      args: [x, idx, out(outer * n * inner), outer, axisDim, inner],
      dependent: [0, 2],
      sizes: [3, 4, 5],
      outputs: inRange ? [2] : [],
      // With no rows to pick from, the kernel returns the first bad index (0) and writes nothing.
      reference: () => (inRange ? ref(() => [tf.gather(tf.tensor3d(x, [outer, axisDim, inner]), tf.tensor1d(idx, "int32"), 1)])?.concat([-1]) : [0]),
    };
  },
  segmentSum: () => {
    const [rows, inner, segments] = [dim(), dim(), posDim()];
    const x = randn(rows * inner);
    const ids = ints(rows, segments);
    return {
      op: "segmentSum",
      args: [x, ids, out(segments * inner), inner, segments],
      dependent: [0, 2],
      sizes: [3, 4],
      outputs: [2],
      reference: () => ref(() => [tf.unsortedSegmentSum(tf.tensor2d(x, [rows, inner]), tf.tensor1d(ids, "int32"), segments)]),
    };
  },
  oneHot: () => {
    const [n, depth] = [dim(), posDim()];
    const idx = Int32Array.from({ length: n }, () => rng.nextInt(depth + 2) - 1); // some out of range: zero rows
    return {
      op: "oneHot",
      args: [idx, out(n * depth), depth, 1, 0],
      dependent: [1],
      sizes: [2],
      outputs: [1],
      reference: () => ref(() => [tf.oneHot(tf.tensor1d(idx, "int32"), depth)]),
    };
  },
  colSum: () => {
    const [rows, cols] = [dim(), posDim()];
    const x = randn(rows * cols);
    return { op: "colSum", args: [x, out(cols), cols, false], dependent: [1], sizes: [], outputs: [1], reference: () => ref(() => [tf.sum(tf.tensor2d(x, [rows, cols]), 0)]) };
  },
  layerNorm: () => {
    const [rows, C] = [dim(), posDim()];
    const x = Float32Array.from(randn(rows * C), (v) => v * 3 + 100);
    const [gamma, beta] = [randn(C), randn(C)];
    return {
      op: "layerNorm",
      args: [x, gamma, beta, out(rows * C), out(rows), out(rows), C, 1e-5],
      dependent: [1, 2, 3, 4, 5],
      sizes: [],
      outputs: [3],
      reference: () => ref(() => [layerNormRef(tf.tensor2d(x, [rows, C]), tf.tensor1d(gamma), tf.tensor1d(beta), 1e-5)]),
    };
  },
  layerNormGrad: () => {
    const [rows, C] = [dim(), posDim()];
    const x = randn(rows * C);
    const [gamma, beta, dy] = [randn(C), randn(C), randn(rows * C)];
    // The saved statistics, as layerNorm computes them.
    const [y, mean, rstd] = [new Float32Array(rows * C), new Float32Array(rows), new Float32Array(rows)];
    addon.layerNorm(x, gamma, beta, y, mean, rstd, C, 1e-5);
    return {
      op: "layerNormGrad",
      args: [x, gamma, mean, rstd, dy, out(rows * C), out(C), out(C), C],
      dependent: [1, 2, 3, 4, 5, 6, 7],
      sizes: [],
      outputs: [5, 6, 7],
      reference: () =>
        ref(() => {
          const f = (xt: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => tf.sum(tf.mul(layerNormRef(xt as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5), tf.tensor2d(dy, [rows, C])));
          return tf.grads(f)([tf.tensor2d(x, [rows, C]), tf.tensor1d(gamma), tf.tensor1d(beta)]);
        }),
    };
  },
  // RMS norm and grouped attention: references are the ops' own (the cpu backend has no kernels for them).
  rmsNorm: () => {
    const [rows, C] = [dim(), posDim()];
    const x = Float32Array.from(randn(rows * C), (v) => v * 3 + 10);
    const gamma = randn(C);
    return {
      op: "rmsNorm",
      args: [x, gamma, out(rows * C), out(rows), C, 1e-5],
      dependent: [1, 2, 3],
      sizes: [],
      outputs: [2],
      reference: () => ref(() => [rmsNorm(tf.tensor2d(x, [rows, C]), tf.tensor1d(gamma), 1e-5)]),
    };
  },
  rmsNormGrad: () => {
    const [rows, C] = [dim(), posDim()];
    const [x, gamma, dy] = [randn(rows * C), randn(C), randn(rows * C)];
    const rstd = new Float32Array(rows);
    addon.rmsNorm(x, gamma, new Float32Array(rows * C), rstd, C, 1e-5); // the saved statistics
    return {
      op: "rmsNormGrad",
      args: [x, gamma, rstd, dy, out(rows * C), out(C), C],
      dependent: [1, 2, 3, 4, 5],
      sizes: [],
      outputs: [4, 5],
      reference: () =>
        ref(() => {
          const f = (xt: tf.Tensor, g: tf.Tensor): tf.Tensor => tf.sum(tf.mul(rmsNorm(xt, g, 1e-5), tf.tensor2d(dy, [rows, C])));
          return tf.grads(f)([tf.tensor2d(x, [rows, C]), tf.tensor1d(gamma)]);
        }),
    };
  },
  causalAttention: () => {
    const KV = 1 + rng.nextInt(3);
    const [B, H, Tq, D] = [dim(), KV * (1 + rng.nextInt(3)), dim(), posDim()];
    const Tk = Tq + (rng.nextFloat() < 0.5 ? 0 : dim());
    const [q, k, v] = [randn(B * H * Tq * D), randn(B * KV * Tk * D), randn(B * KV * Tk * D)];
    const rate = rng.nextFloat() < 0.3 ? 0.25 : 0;
    const mask = rate > 0 ? new Uint8Array(B * H * Tq * Tk) : null;
    if (mask) addon.dropoutMask(mask, 77, 1 - rate);
    const scale = D ** -0.5;
    return {
      op: "causalAttention",
      args: [q, k, v, out(B * H * Tq * D), out(B * H * Tq * Tk), mask, 1 - rate, Int32Array.of(B, H, KV, Tq, Tk, D), scale],
      dependent: mask ? [0, 1, 2, 3, 4, 5] : [0, 1, 2, 3, 4],
      sizes: [],
      outputs: [3],
      reference: () => ref(() => [causalAttention(tf.tensor4d(q, [B, H, Tq, D]), tf.tensor4d(k, [B, KV, Tk, D]), tf.tensor4d(v, [B, KV, Tk, D]), scale, rate, 77)]),
    };
  },
  causalAttentionGrad: () => {
    const KV = 1 + rng.nextInt(3);
    const [B, H, Tq, D] = [dim(), KV * (1 + rng.nextInt(3)), dim(), posDim()];
    const Tk = Tq + (rng.nextFloat() < 0.5 ? 0 : dim());
    const [q, k, v, dout] = [randn(B * H * Tq * D), randn(B * KV * Tk * D), randn(B * KV * Tk * D), randn(B * H * Tq * D)];
    const params = Int32Array.of(B, H, KV, Tq, Tk, D);
    const scale = D ** -0.5;
    const p = new Float32Array(B * H * Tq * Tk);
    addon.causalAttention(q, k, v, new Float32Array(B * H * Tq * D), p, null, 1, params, scale); // the saved weights
    const nk = B * KV * Tk * D;
    return {
      op: "causalAttentionGrad",
      args: [q, k, v, p, null, 1, dout, out(q.length), out(nk), out(nk), params, scale],
      dependent: [0, 1, 2, 3, 6, 7, 8, 9],
      sizes: [],
      outputs: [7, 8, 9],
      reference: () =>
        ref(() => {
          const f = (qt: tf.Tensor, kt: tf.Tensor, vt: tf.Tensor): tf.Tensor =>
            tf.sum(tf.mul(causalAttention(qt as tf.Tensor4D, kt as tf.Tensor4D, vt as tf.Tensor4D, scale), tf.tensor4d(dout, [B, H, Tq, D])));
          return tf.grads(f)([tf.tensor4d(q, [B, H, Tq, D]), tf.tensor4d(k, [B, KV, Tk, D]), tf.tensor4d(v, [B, KV, Tk, D])]);
        }),
    };
  },
  // The attention kernels with score shaping (a window, ALiBi slopes, a cap), against the op's reference.
  causalAttentionShaped: () => {
    const KV = 1 + rng.nextInt(3);
    const [B, H, Tq, D] = [dim(), KV * (1 + rng.nextInt(3)), dim(), posDim()];
    const Tk = Tq + (rng.nextFloat() < 0.5 ? 0 : dim());
    const [q, k, v] = [randn(B * H * Tq * D), randn(B * KV * Tk * D), randn(B * KV * Tk * D)];
    const shaping = randomShaping(H, Tk);
    const scale = D ** -0.5;
    const args = [q, k, v, out(B * H * Tq * D), out(B * H * Tq * Tk), null, 1, Int32Array.of(B, H, KV, Tq, Tk, D), scale, ...shapingArgs(shaping, B * H * Tq * Tk)];
    return {
      op: "causalAttention",
      args,
      dependent: [0, 1, 2, 3, 4, ...shapingDependent(args, 9)],
      sizes: [9],
      outputs: [3],
      reference: () => ref(() => [causalAttention(tf.tensor4d(q, [B, H, Tq, D]), tf.tensor4d(k, [B, KV, Tk, D]), tf.tensor4d(v, [B, KV, Tk, D]), scale, 0, 0, shaping)]),
    };
  },
  causalAttentionShapedGrad: () => {
    const KV = 1 + rng.nextInt(3);
    const [B, H, Tq, D] = [dim(), KV * (1 + rng.nextInt(3)), dim(), posDim()];
    const Tk = Tq + (rng.nextFloat() < 0.5 ? 0 : dim());
    const [q, k, v, dout] = [randn(B * H * Tq * D), randn(B * KV * Tk * D), randn(B * KV * Tk * D), randn(B * H * Tq * D)];
    const params = Int32Array.of(B, H, KV, Tq, Tk, D);
    const shaping = randomShaping(H, Tk);
    const scale = D ** -0.5;
    const p = new Float32Array(B * H * Tq * Tk);
    const shaped = shapingArgs(shaping, B * H * Tq * Tk);
    addon.causalAttention(q, k, v, new Float32Array(B * H * Tq * D), p, null, 1, params, scale, ...(shaped as [])); // the saved weights and the cap's derivative
    const nk = B * KV * Tk * D;
    const args = [q, k, v, p, null, 1, dout, out(q.length), out(nk), out(nk), params, scale, ...shaped];
    return {
      op: "causalAttentionGrad",
      args,
      dependent: [0, 1, 2, 3, 6, 7, 8, 9, ...shapingDependent(args, 12)],
      sizes: [12],
      outputs: [7, 8, 9],
      reference: () =>
        ref(() => {
          const f = (qt: tf.Tensor, kt: tf.Tensor, vt: tf.Tensor): tf.Tensor =>
            tf.sum(tf.mul(causalAttention(qt as tf.Tensor4D, kt as tf.Tensor4D, vt as tf.Tensor4D, scale, 0, 0, shaping), tf.tensor4d(dout, [B, H, Tq, D])));
          return tf.grads(f)([tf.tensor4d(q, [B, H, Tq, D]), tf.tensor4d(k, [B, KV, Tk, D]), tf.tensor4d(v, [B, KV, Tk, D])]);
        }),
    };
  },
  mhaAttentionShaped: () => {
    const [B, T, H, D] = [dim(), dim(), 1 + rng.nextInt(3), posDim()];
    const qkv = randn(B * T * 3 * H * D);
    const shaping = randomShaping(H, T);
    const scale = D ** -0.5;
    const args = [qkv, out(B * T * H * D), out(B * H * T * T), null, 1, B, T, H, D, scale, ...shapingArgs(shaping, B * H * T * T)];
    return {
      op: "mhaAttentionDropout",
      args,
      dependent: [0, 1, 2, ...shapingDependent(args, 10)],
      sizes: [5, 6, 7, 8, 10],
      outputs: B * T > 0 ? [1] : [],
      reference: () => (B * T > 0 ? ref(() => [shapedHeads(tf.tensor3d(qkv, [B, T, 3 * H * D]), H, D, scale, shaping)]) : []),
    };
  },
  mhaAttentionShapedGrad: () => {
    const [B, T, H, D] = [dim(), dim(), 1 + rng.nextInt(3), posDim()];
    const W = 3 * H * D;
    const qkv = randn(B * T * W);
    const dout = randn(B * T * H * D);
    const shaping = randomShaping(H, T);
    const scale = D ** -0.5;
    const p = new Float32Array(B * H * T * T);
    const shaped = shapingArgs(shaping, B * H * T * T);
    addon.mhaAttentionDropout(qkv, new Float32Array(B * T * H * D), p, null, 1, B, T, H, D, scale, ...(shaped as [])); // the saved weights and the cap's derivative
    const args = [qkv, p, null, 1, dout, out(B * T * W), out(T * T), B, T, H, D, scale, ...shaped];
    return {
      op: "mhaAttentionDropoutGrad",
      args,
      dependent: [0, 1, 4, 5, 6, ...shapingDependent(args, 12)],
      sizes: [7, 8, 9, 10, 12],
      outputs: B * T > 0 ? [5] : [],
      reference: () =>
        B * T > 0
          ? ref(() => {
              const f = (x: tf.Tensor): tf.Tensor => tf.sum(tf.mul(shapedHeads(x as tf.Tensor3D, H, D, scale, shaping), tf.tensor3d(dout, [B, T, H * D])));
              return [tf.grad(f)(tf.tensor3d(qkv, [B, T, W]))];
            })
          : [],
    };
  },
  rope: () => {
    const [N, T, half] = [dim(), dim(), rng.nextInt(4)];
    const hs = 2 * half + rng.nextInt(3);
    const offset = rng.nextInt(4);
    const P = offset + T + rng.nextInt(3);
    const [x, cos, sin] = [randn(N * T * hs), randn(P * half), randn(P * half)];
    const inverse = rng.nextFloat() < 0.5;
    return {
      op: "rope",
      args: [x, cos, sin, out(N * T * hs), Int32Array.of(N, T, hs, P, half, offset), inverse],
      dependent: [0, 1, 2, 3],
      sizes: [],
      outputs: [3],
      // The inverse rotation is the rotation by the negated sines.
      reference: () =>
        ref(() => [rope(tf.tensor4d(x, [1, N, T, hs]), tf.tensor2d(cos, [P, half]), tf.tensor2d(inverse ? sin.map((v) => -v) : sin, [P, half]), offset)]),
    };
  },
  crossEntropy: () => {
    const [rows, V] = [dim(), posDim()];
    const logits = randn(rows * V);
    const targets = ints(rows, V);
    return {
      op: "crossEntropy",
      args: [logits, targets, out(rows * V), V],
      dependent: [0, 2],
      sizes: [],
      outputs: [2],
      reference: () =>
        ref(() => {
          const lt = tf.tensor2d(logits, [rows, V]);
          const loss = tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(lt), tf.oneHot(tf.tensor1d(targets, "int32"), V)), -1)));
          return [tf.softmax(lt), loss];
        })?.map((v, i) => (i === 1 ? (v as Float32Array)[0]! : v)),
    };
  },
  crossEntropyGrad: () => {
    const [rows, V] = [dim(), posDim()];
    const probs = Float32Array.from(randn(rows * V), Math.abs);
    const targets = ints(rows, V);
    const scale = rng.nextFloat();
    return {
      op: "crossEntropyGrad",
      args: [probs, targets, out(rows * V), V, scale],
      dependent: [0, 2],
      sizes: [],
      outputs: [2],
      reference: () => ref(() => [tf.mul(tf.sub(tf.tensor2d(probs, [rows, V]), tf.oneHot(tf.tensor1d(targets, "int32"), V)), scale)]),
    };
  },
  mhaAttention: () => {
    const [B, T, H, D] = [dim(), dim(), 1 + rng.nextInt(3), posDim()];
    const qkv = randn(B * T * 3 * H * D);
    const scale = D ** -0.5;
    return {
      op: "mhaAttentionDropout",
      args: [qkv, out(B * T * H * D), out(B * H * T * T), null, 1, B, T, H, D, scale],
      dependent: [0, 1, 2],
      sizes: [5, 6, 7, 8],
      outputs: [1],
      reference: () =>
        ref(() => {
          const x = tf.tensor3d(qkv, [B, T, 3 * H * D]);
          const heads = Array.from({ length: H }, (_, h) => {
            const part = (i: number): tf.Tensor3D => tf.slice(x, [0, 0, (3 * h + i) * D], [B, T, D]);
            return causal(part(0), part(1), part(2), scale);
          });
          return [H === 1 ? heads[0]! : tf.concat(heads, -1)];
        }),
    };
  },
  mhaAttentionGrad: () => {
    const [B, T, H, D] = [dim(), dim(), 1 + rng.nextInt(3), posDim()];
    const W = 3 * H * D;
    const qkv = randn(B * T * W);
    const dout = randn(B * T * H * D);
    const scale = D ** -0.5;
    const p = new Float32Array(B * H * T * T);
    addon.mhaAttentionDropout(qkv, new Float32Array(B * T * H * D), p, null, 1, B, T, H, D, scale); // the saved weights
    return {
      op: "mhaAttentionDropoutGrad",
      args: [qkv, p, null, 1, dout, out(B * T * W), out(T * T), B, T, H, D, scale],
      dependent: [0, 1, 4, 5, 6],
      sizes: [7, 8, 9, 10],
      outputs: B * T > 0 ? [5] : [],
      reference: () =>
        B * T > 0
          ? ref(() => {
              const f = (x: tf.Tensor): tf.Tensor => {
                const heads = Array.from({ length: H }, (_, h) => {
                  const part = (i: number): tf.Tensor3D => tf.slice(x as tf.Tensor3D, [0, 0, (3 * h + i) * D], [B, T, D]);
                  return causal(part(0), part(1), part(2), scale);
                });
                return tf.sum(tf.mul(H === 1 ? heads[0]! : tf.concat(heads, -1), tf.tensor3d(dout, [B, T, H * D])));
              };
              return [tf.grad(f)(tf.tensor3d(qkv, [B, T, W]))];
            })
          : [],
    };
  },
};

/** A misfit: one dependent array a different length (or another element type). */
function misfit(call: Call): boolean {
  if (call.dependent.length === 0) return false;
  const i = call.dependent[rng.nextInt(call.dependent.length)]!;
  const a = call.args[i] as Arr;
  const kind = rng.nextInt(4);
  if (kind === 0 && a instanceof Float32Array) {
    call.args[i] = new Int32Array(a.length);
    return true;
  }
  const lengths = [a.length + 1, a.length - 1, a.length * 2 + 1, 0].filter((n) => n >= 0 && n !== a.length);
  const n = lengths[rng.nextInt(lengths.length)]!;
  const Ctor = a.constructor as new (n: number) => Arr;
  const b = new Ctor(n);
  b.set(a.subarray(0, Math.min(n, a.length)) as never);
  call.args[i] = b;
  return true;
}

/** An extreme: one size argument replaced by a value no size can be. */
function extreme(call: Call): boolean {
  if (call.sizes.length === 0) return false;
  const i = call.sizes[rng.nextInt(call.sizes.length)]!;
  call.args[i] = [2 ** 40, 2 ** 41, 2 ** 53 + 2, 1e300, 2.5, -1, Number.NaN, Number.POSITIVE_INFINITY][rng.nextInt(8)];
  return true;
}

/** max |a - b| over max(1, max |b|), NaN matching NaN and equal infinities equal. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < b.length; i++) {
    const [x, y] = [a[i]!, b[i]!];
    if (x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
    diff = Math.max(diff, Number.isNaN(x) || Number.isNaN(y) ? Number.POSITIVE_INFINITY : Math.abs(x - y));
    if (Number.isFinite(y)) scale = Math.max(scale, Math.abs(y));
  }
  return diff / scale;
}

const names = Object.keys(generators);
const failures: string[] = [];
const counts = { fit: 0, compared: 0, noReference: 0, refusedFit: 0, misfit: 0, extreme: 0, extremeRefused: 0, extremeAccepted: 0 };
const describe = (c: Call): string =>
  `${c.op}(${c.args.map((a) => (ArrayBuffer.isView(a) ? `${(a as Arr).constructor.name}(${(a as Arr).length})` : a === null ? "null" : String(a))).join(", ")})`;

const total = Number(opts.cases);
for (let i = 0; i < total; i++) {
  const call = generators[names[i % names.length]!]!();
  const kind = ["fit", "misfit", "fit", "extreme"][Math.floor(i / names.length) % 4] as "fit" | "misfit" | "extreme";
  const changed = kind === "misfit" ? misfit(call) : kind === "extreme" ? extreme(call) : false;
  const actual = changed ? kind : "fit";
  const text = `case ${i} (${actual}): ${describe(call)}`;
  process.stderr.write(`${text}\n`);
  let result: unknown;
  let error: Error | undefined;
  try {
    result = (addon as unknown as Record<string, (...args: unknown[]) => unknown>)[call.op]!(...call.args);
  } catch (e) {
    error = e instanceof Error ? e : new Error(String(e));
  }
  if (error && !error.message.startsWith(`babygpt native: ${call.op}: `)) {
    failures.push(`${text}: threw something other than a clean error: ${error.message}`);
    continue;
  }
  if (actual === "misfit") {
    counts.misfit++;
    if (!error) failures.push(`${text}: accepted operands that do not fit`);
    continue;
  }
  if (actual === "extreme") {
    counts.extreme++;
    if (error) counts.extremeRefused++;
    else counts.extremeAccepted++;
    continue;
  }
  counts.fit++;
  if (error) {
    if (call.mayRefuse) counts.refusedFit++;
    else failures.push(`${text}: refused operands that fit: ${error.message}`);
    continue;
  }
  const want = call.reference();
  if (!want) {
    counts.noReference++;
    if (process.env["FUZZ_VERBOSE"]) process.stderr.write(`no reference: ${text}\n`);
    continue;
  }
  const got: (ArrayLike<number> | number)[] = call.outputs.map((j) => call.args[j] as Float32Array);
  if (result !== undefined) got.push(result as number);
  if (got.length !== want.length) {
    failures.push(`${text}: ${got.length} results, the reference has ${want.length}`);
    continue;
  }
  counts.compared++;
  for (let j = 0; j < want.length; j++) {
    const [g, w] = [got[j]!, want[j]!];
    const err = typeof w === "number" ? relErr([g as number], [w]) : relErr(g as ArrayLike<number>, w);
    if (!(err <= 1e-4)) failures.push(`${text}: result ${j} is off by ${err} (relative) from the tf reference`);
  }
}

process.stdout.write(`${JSON.stringify({ blas: addon.blasName(), seed: Number(opts.seed), cases: total, ...counts, failures })}\n`);
process.exit(failures.length > 0 ? 1 : 0);

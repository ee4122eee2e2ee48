// The matrix product under every native kernel, against a naive reference in double precision: this
// build's sgemm (OpenBLAS's, or the built-in GEMM), and each of the built-in GEMM's micro-kernels on
// their own (AVX2 where the CPU has it, and the portable one everywhere, whatever the build), with
// BLAS's full semantics: row-major, both transposes, leading dimensions wider than the matrices, alpha
// and beta, beta = 0 overwriting C without reading it (NaN there must not leak), and sizes that are no
// multiple of any tile (1, 7, 33, 257, ...). Then the threaded matmul binding, which cuts one product
// into blocks on the pool, at sizes that split.
import { describe, expect, it } from "vitest";
import { loadAddon, type NativeAddon } from "../../runtime/native/addon.js";
import { Prng } from "../../runtime/random.js";
import { nativeUnavailable } from "../helpers/native.js";

const skipReason = nativeUnavailable();
const rng = new Prng(61);

function rand(n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.nextFloat() * 2 - 1);
}

/** Elements an array needs for `rows` rows of `cols` at leading dimension ld (the last row unpadded). */
const extent = (rows: number, cols: number, ld: number): number => (rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols);

interface Case {
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
  /** Extra columns of padding in each leading dimension. */
  pad: number;
}

/** Runs one case on `kernel` and returns the largest error relative to K (the products' scale), after
 * checking that the padding between rows of C is untouched. */
function runCase(addon: NativeAddon, kernel: number, c: Case): number {
  const { M, N, K, transA, transB, alpha, beta, pad } = c;
  // At least 1, as BLAS requires even of an empty matrix.
  const lda = Math.max(1, transA ? M : K) + pad;
  const ldb = Math.max(1, transB ? K : N) + pad;
  const ldc = Math.max(1, N) + pad;
  const a = rand(extent(transA ? K : M, transA ? M : K, lda));
  const b = rand(extent(transB ? N : K, transB ? K : N, ldb));
  const c0 = rand(extent(M, N, ldc));
  // beta = 0: C holds garbage that must be overwritten, never read (NaN times 0 would be NaN).
  if (beta === 0) for (let i = 0; i < c0.length; i++) if ((i % ldc) < N) c0[i] = Number.NaN;
  const out = c0.slice();
  addon.sgemm(kernel, transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, out, ldc);
  let worst = 0;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < ldc && i * ldc + j < out.length; j++) {
      const at = i * ldc + j;
      if (j >= N) {
        if (!Object.is(out[at], c0[at])) throw new Error(`padding of C changed at row ${i}, column ${j}`);
        continue;
      }
      let s = 0;
      for (let k = 0; k < K; k++) s += (transA ? a[k * lda + i]! : a[i * lda + k]!) * (transB ? b[j * ldb + k]! : b[k * ldb + j]!);
      const want = alpha * s + (beta === 0 ? 0 : beta * c0[at]!);
      worst = Math.max(worst, Math.abs(out[at]! - want) / Math.max(1, K));
    }
  }
  return worst;
}

const SIZES: readonly [number, number, number][] = [
  [1, 1, 1],
  [7, 33, 257],
  [33, 7, 1],
  [257, 33, 7],
  [6, 16, 256], // exactly one AVX2 tile, one full pass over K
  [13, 17, 300], // K past one block (256)
  [150, 40, 20], // M past one block of A (144)
  [3, 4100, 5], // N past one block of B (4096)
  [0, 5, 3],
  [5, 0, 3],
  [4, 5, 0], // K = 0: C = beta C
];

const cases: Case[] = SIZES.flatMap(([M, N, K], s) =>
  [false, true].flatMap((transA) =>
    [false, true].map((transB, t) => {
      const scalars = [
        [1, 0],
        [0.5, 1],
        [-2, 0.25],
      ][(s + t) % 3]!;
      return { M, N, K, transA, transB, alpha: scalars[0]!, beta: scalars[1]!, pad: (s + t) % 2 === 0 ? 0 : 3 };
    }),
  ),
);

describe.skipIf(skipReason)(`native sgemm${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  const addon = skipReason ? undefined : loadAddon();
  const builtinBuild = (process.env["BABYGPT_NATIVE_ADDON"] ?? "").includes("builtin");
  const kernels = [
    { kernel: 0, name: `this build's (${addon?.blasName() ?? "?"})` },
    { kernel: 3, name: "the built-in portable kernel" },
    ...(addon?.blasName().includes("AVX2") || !builtinBuild ? [{ kernel: 2, name: "the built-in AVX2 kernel" }] : []),
  ];

  it("is the build the test run asked for", () => {
    // BABYGPT_NATIVE_ADDON picks the build (vitest.config.ts runs this suite on both).
    if (builtinBuild) expect(addon!.blasName()).toMatch(/^built-in GEMM, (AVX2|portable)$/);
    else expect(addon!.blasName()).toMatch(/^(OpenBLAS \d|Accelerate|built-in GEMM)/);
  });

  for (const { kernel, name } of kernels) {
    it(`${name} matches a double-precision reference on odd sizes, transposes, leading dimensions, alpha and beta`, () => {
      let avx2 = true;
      try {
        addon!.sgemm(kernel, false, false, 1, 1, 1, 1, new Float32Array(1), 1, new Float32Array(1), 1, 0, new Float32Array(1), 1);
      } catch (e) {
        avx2 = false;
        expect(kernel, String(e)).toBe(2); // only the AVX2 kernel may be missing, on a CPU without it
        expect(String(e)).toMatch(/sgemm: the AVX2 kernel cannot run on this CPU/);
      }
      if (!avx2) return;
      for (const c of cases) {
        const err = runCase(addon!, kernel, c);
        expect(err, JSON.stringify(c)).toBeLessThan(1e-6);
      }
    });
  }

  it("the threaded matmul splits products over the pool and still gives the reference's result", () => {
    const threads = addon!.setThreads(0);
    try {
      addon!.setThreads(Math.max(2, threads));
      for (const [M, N, K, transA, transB] of [
        [301, 67, 129, false, true],
        [29, 517, 65, true, false],
        [130, 130, 70, true, true],
      ] as const) {
        const a = rand(M * K);
        const b = rand(K * N);
        const bias = rand(N);
        const c = new Float32Array(M * N).fill(Number.NaN);
        addon!.matmul(a, b, c, bias, null, null, Int32Array.of(1, 1, 1, M, N, K, transA ? 1 : 0, transB ? 1 : 0, 0, 0), 0);
        let worst = 0;
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) {
            let s = bias[j]!;
            for (let k = 0; k < K; k++) s += (transA ? a[k * M + i]! : a[i * K + k]!) * (transB ? b[j * K + k]! : b[k * N + j]!);
            worst = Math.max(worst, Math.abs(c[i * N + j]! - s) / K);
          }
        }
        expect(worst, `${M}x${N}x${K}`).toBeLessThan(1e-6);
      }
    } finally {
      addon!.setThreads(threads);
    }
  });
});

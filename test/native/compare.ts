// Running the same computation on the cpu backend and on another (native, webgpu), and comparing what
// comes out: shared by the native and webgpu backends' kernel tests and the op tests.
import { expect } from "vitest";
import { tf } from "../../runtime/nn/tf.js";
import type { HeadWeights } from "../../runtime/ops/index.js";
import { Prng } from "../../runtime/random.js";

export type Values = Float32Array | Int32Array | Uint8Array;

export interface Result {
  shape: number[];
  dtype: string;
  values: Values;
}

/** Normal (or uniform integer) test data from one seeded generator. */
export class TestData {
  readonly #rng: Prng;

  constructor(seed: number) {
    this.#rng = new Prng(seed);
  }

  randn(shape: number[], scale = 1): Float32Array {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = this.#rng.nextNormal() * scale;
    return v;
  }

  randint(n: number, max: number): Int32Array {
    const v = new Int32Array(n);
    for (let i = 0; i < n; i++) v[i] = this.#rng.nextInt(max);
    return v;
  }
}

/**
 * Runs f on the cpu backend and on `backend` (native unless given; inputs are made inside f) and returns
 * both results. Values are read with `await data()`, which webgpu needs.
 */
export async function onBoth(f: () => tf.Tensor | tf.Tensor[], backend = "native"): Promise<[Result[], Result[]]> {
  const run = async (name: string): Promise<Result[]> => {
    await tf.setBackend(name);
    const outs = tf.tidy(() => {
      const out = f();
      return Array.isArray(out) ? out : [out];
    });
    const results: Result[] = [];
    for (const t of outs) results.push({ shape: t.shape, dtype: t.dtype, values: ((await t.data()) as Values).slice() });
    tf.dispose(outs);
    return results;
  };
  const cpu = await run("cpu");
  const other = await run(backend);
  return [cpu, other];
}

/**
 * max |a - b| over max |b|: the error relative to the tensor's scale. `floor` bounds the scale from below,
 * for tensors that are zero up to rounding noise (say the gradient of a key bias, which softmax ignores).
 */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 0): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    if (a[i] === b[i] || (Number.isNaN(a[i]!) && Number.isNaN(b[i]!))) continue; // equal infinities, NaN for NaN
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    if (Number.isFinite(b[i]!)) scale = Math.max(scale, Math.abs(b[i]!));
  }
  if (Number.isNaN(diff)) return Number.NaN;
  scale = Math.max(scale, floor);
  return scale === 0 ? diff : diff / scale;
}

/** Expects the other backend's results to equal the cpu ones: shapes and dtypes exactly, values to `tol` (0: exactly). */
export function expectClose(cpu: Result[], native: Result[], tol: number, floor = 0): void {
  expect(native.length).toBe(cpu.length);
  cpu.forEach((c, i) => {
    const n = native[i]!;
    expect(n.shape).toEqual(c.shape);
    expect(n.dtype).toBe(c.dtype);
    expect(n.values.length).toBe(c.values.length);
    if (tol === 0) expect(Array.from(n.values)).toEqual(Array.from(c.values));
    else expect(relErr(n.values, c.values, floor), `output ${i}`).toBeLessThanOrEqual(tol);
  });
}

export async function expectSame(f: () => tf.Tensor | tf.Tensor[], tol = 1e-5, floor = 0, backend = "native"): Promise<void> {
  const [cpu, native] = await onBoth(f, backend);
  expectClose(cpu, native, tol, floor);
}

const fixed = new Prng(7);
const fixedValues: number[] = [];
function randnFixed(n: number): Float32Array {
  while (fixedValues.length < n) fixedValues.push(fixed.nextNormal());
  return Float32Array.from(fixedValues.slice(0, n));
}

/**
 * f's value and the gradients of sum(f(inputs) * w) for a fixed random w (the same on every backend),
 * so that every output element matters. The inputs are made inside, on the active backend.
 */
export function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: Array<[Float32Array, number[]]>): () => tf.Tensor[] {
  return () => {
    const xs = inputs.map(([v, s]) => tf.tensor(v, s));
    const y = f(...xs);
    const w = tf.tensor(randnFixed(y.size), y.shape);
    const g = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), w)));
    return [y, ...g(xs)];
  };
}

/** Heads over flat parameter tensors p: weights w0 … w(3H-1) (q, k, v per head), then biases if any. */
export function headsOf(p: readonly tf.Tensor[], H: number, withBias: boolean): HeadWeights[] {
  const proj = (i: number) => ({ weight: p[i]!, bias: withBias ? p[3 * H + i] : undefined });
  return Array.from({ length: H }, (_, h) => ({ query: proj(3 * h), key: proj(3 * h + 1), value: proj(3 * h + 2) }));
}

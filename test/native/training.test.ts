// The native backend's training path against the tf ops it replaces, bit for bit: the one-call optimizer
// step (SGD, Adam, AdamW, with and without a clipping scale) against the op's reference in tf ops, the global
// gradient norm, tf.dropout's random numbers and masks (alone and inside multi-head attention), results
// that repeat exactly at a thread count, and the training step shared by the trainer and the benchmark.
//
// Skipped, with the reason in the suite's name, where the addon is not built (no g++ or OpenBLAS).
import { afterAll, describe, expect, it } from "vitest";
import type { OptimizerSpec } from "../../compiler/spec/types.generated.js";
import { models } from "../../generated/index.js";
import { loadAddon } from "../../runtime/native/addon.js";
import { Dropout } from "../../runtime/nn/dropout.js";
import { DropoutSeeds } from "../../runtime/nn/dropout-seeds.js";
import { multiHeadCausalAttention } from "../../runtime/nn/functional.js";
import { Linear } from "../../runtime/nn/linear.js";
import { tf } from "../../runtime/nn/tf.js";
import { Prng } from "../../runtime/random.js";
import { clipByGlobalNorm, globalNorm } from "../../runtime/train/clip.js";
import { OPTIMIZER_STEP } from "../../runtime/ops/index.js";
import { Optimizer } from "../../runtime/train/optimizer.js";
import { trainStep } from "../../runtime/train/step.js";
import { nativeUnavailable } from "../helpers/native.js";

const skipReason = nativeUnavailable();

const rng = new Prng(424242);
function randn(n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.nextNormal() * scale);
}

/** The same tensors' values, made fresh on the active backend. */
function tensorsFrom(values: readonly Float32Array[], shapes: readonly number[][]): tf.Tensor[] {
  return values.map((v, i) => tf.tensor(v.slice(), shapes[i]!, "float32"));
}

describe.skipIf(skipReason !== undefined)(`native training path${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  afterAll(async () => {
    await tf.setBackend("native");
  });

  const configs: OptimizerSpec[] = [
    { type: "sgd", lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0 },
    { type: "adam", lr: 3e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.1 },
    { type: "adamw", lr: 1e-3, betas: [0.9, 0.99], eps: 1e-8, weight_decay: 0.1 },
  ];

  /**
   * Five steps of `config` on three parameters on `backend`: optimizer.ts's tf ops on the cpu backend,
   * the one-call update on the native one.
   */
  async function optimize(backend: string, config: OptimizerSpec, gradScale: number): Promise<number[][]> {
    await tf.setBackend(backend);
    const shapes = [[300, 7], [5], [64, 65]];
    const data = new Prng(9);
    const init = shapes.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => data.nextNormal()));
    const params = tensorsFrom(init, shapes).map((t, i) => {
      const v = tf.variable(t, true);
      t.dispose();
      return [`p${i}`, v] as const;
    });
    const opt = new Optimizer(config);
    const profile = await tf.profile(() => {
      for (let step = 0; step < 5; step++) {
        const grads = shapes.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => data.nextNormal() * 0.1));
        const g = tensorsFrom(grads, shapes);
        opt.applyGradients(params, g, config.lr, gradScale);
        tf.dispose(g);
      }
    });
    // The native backend's one kernel per step, not the tf ops of the reference.
    const kernelSteps = profile.kernels.filter((k) => k.name === OPTIMIZER_STEP.name).length;
    expect(kernelSteps).toBe(backend === "native" ? 5 : 0);
    const out = params.map(([, v]) => Array.from(v.dataSync()));
    const slots = [...opt.state().slots.values()].map((t) => Array.from(t.dataSync()));
    params.forEach(([, v]) => v.dispose());
    opt.dispose();
    return [...out, ...slots];
  }

  for (const config of configs) {
    for (const gradScale of [1, 0.37]) {
      it(`${config.type}${gradScale !== 1 ? " with a clipping scale" : ""}: the native step equals the cpu backend's tf ops bit for bit`, async () => {
        const cpu = await optimize("cpu", config, gradScale);
        const native = await optimize("native", config, gradScale);
        expect(native.length).toBe(cpu.length);
        native.forEach((values, i) => expect(values, `tensor ${i}`).toEqual(cpu[i]));
      });
    }
  }

  it("updates in place only arrays nobody else can see", async () => {
    await tf.setBackend("native");
    const kernelCalls = async (f: () => void): Promise<number> => (await tf.profile(f)).kernels.filter((k) => k.name === OPTIMIZER_STEP.name).length;
    const v = tf.variable(tf.tensor1d(randn(1000)), true);
    const opt = new Optimizer(configs[2]!);
    const g = tf.tensor1d(randn(1000, 0.1));
    opt.applyGradients([["w", v]], [g], 1e-3);
    const seen = v.dataSync(); // handed out: must not change under the caller
    const copy = seen.slice();
    opt.applyGradients([["w", v]], [g], 1e-3);
    expect(Array.from(seen)).toEqual(Array.from(copy));
    expect(Array.from(v.dataSync())).not.toEqual(Array.from(copy));
    // A tensor sharing the variable's data keeps the old values, as after assign().
    const alias = tf.reshape(v, [10, 100]);
    const before = alias.dataSync().slice();
    const old = v.dataSync().slice();
    expect(await kernelCalls(() => opt.applyGradients([["w", v]], [g], 1e-3))).toBe(1);
    expect(Array.from(alias.dataSync())).toEqual(Array.from(before));
    expect(Array.from(v.dataSync())).not.toEqual(Array.from(old));
    tf.dispose([v, g, alias]);
    opt.dispose();
  });

  it("the global norm equals tf.sqrt(tf.addN(sums of squares)) on the cpu backend, and clipping scales alike", async () => {
    const shapes = [[123, 45], [7], [1000]];
    const values = shapes.map((s) => randn(s.reduce((a, b) => a * b, 1), 3));
    const norms: number[] = [];
    const clipped: number[][] = [];
    for (const backend of ["cpu", "native"]) {
      await tf.setBackend(backend);
      const ts = tensorsFrom(values, shapes);
      norms.push(await globalNorm(ts));
      const map = new Map(ts.map((t, i) => [`g${i}`, t]));
      await clipByGlobalNorm(map, 1);
      clipped.push([...map.values()].flatMap((t) => Array.from(t.dataSync())));
      tf.dispose([...map.values()]);
    }
    expect(norms[1]).toBe(norms[0]);
    expect(clipped[1]).toEqual(clipped[0]);
  });

  it("draws tf.randomUniform's numbers for a seed, and tf.dropout's values", async () => {
    const addon = loadAddon();
    for (const seed of [0, 1, 12345, 4294967295, 3141592653]) {
      const n = 5000;
      const ours = new Float32Array(n);
      addon.aleaFill(seed, ours);
      await tf.setBackend("cpu");
      const theirs = tf.tidy(() => tf.randomUniform([n], 0, 1, "float32", seed).dataSync());
      expect(Array.from(ours)).toEqual(Array.from(theirs));
    }
    const x = randn(3 * 50 * 7);
    const results: number[][] = [];
    for (const backend of ["cpu", "native"]) {
      await tf.setBackend(backend);
      const drop = new Dropout(0.3);
      drop.shareDropoutSeeds(new DropoutSeeds(77));
      results.push(tf.tidy(() => Array.from(drop.forward(tf.tensor(x, [3, 50, 7])).dataSync())));
    }
    expect(results[1]).toEqual(results[0]);
  });

  it("multi-head attention with dropout: the values and gradients of the per-head tf ops", async () => {
    const [B, T, C, H, D] = [2, 9, 12, 3, 4];
    const x = randn(B * T * C);
    const ws = Array.from({ length: 3 * H }, () => randn(D * C, 0.5));
    const results: number[][][] = [];
    for (const backend of ["cpu", "native"]) {
      await tf.setBackend(backend);
      const seeds = new DropoutSeeds(5);
      const drop = new Dropout(0.4);
      drop.shareDropoutSeeds(seeds);
      const out = tf.tidy(() => {
        const wt = ws.map((w) => tf.tensor(w, [D, C]));
        const xt = tf.tensor(x, [B, T, C]);
        const f = (xi: tf.Tensor, ...p: tf.Tensor[]): tf.Tensor => {
          const lin = (i: number): Linear => {
            const l = Object.create(Linear.prototype) as Linear;
            Object.assign(l, { weight: p[i], bias: undefined, nIn: C, nOut: D });
            return l;
          };
          const heads = Array.from({ length: H }, (_, h) => ({ query: lin(3 * h), key: lin(3 * h + 1), value: lin(3 * h + 2) }));
          return tf.sum(tf.mul(multiHeadCausalAttention(xi as tf.Tensor3D, heads, D ** -0.5, { dropout: drop }), tf.range(0, B * T * H * D).reshape([B, T, H * D])));
        };
        const g = tf.grads(f)([xt, ...wt]);
        seeds.reseed(5);
        const value = f(xt, ...wt);
        return [Array.from(value.dataSync()), ...g.map((t) => Array.from(t.dataSync()))];
      });
      results.push(out);
    }
    const [cpu, native] = results as [number[][], number[][]];
    for (let i = 0; i < cpu.length; i++) {
      const scale = Math.max(1, ...cpu[i]!.map(Math.abs));
      const err = Math.max(...cpu[i]!.map((c, j) => Math.abs(c - native[i]![j]!)));
      expect(err / scale, `output ${i}`).toBeLessThan(1e-4);
    }
  });

  it("repeats its results exactly at a thread count, and agrees to rounding across thread counts", async () => {
    await tf.setBackend("native");
    const addon = loadAddon();
    const threads = addon.setThreads(0);
    const run = async (): Promise<Float32Array[]> => {
      const model = models["dropout"].createModel({ vocabSize: 65, seed: 3 });
      model.dropoutSeeds.reseed(1);
      const data = new Prng(4);
      const [B, T] = [16, model.blockSize];
      const x = tf.tensor2d(Int32Array.from({ length: B * T }, () => data.nextInt(65)), [B, T], "int32");
      const y = tf.tensor2d(Int32Array.from({ length: B * T }, () => data.nextInt(65)), [B, T], "int32");
      const params = model.namedParameters();
      const opt = new Optimizer(configs[2]!);
      const losses = new Float32Array(3);
      for (let i = 0; i < 3; i++) losses[i] = (await trainStep(model, params, x, y, opt, 1e-3, 1)).loss;
      const out = [losses, ...params.map(([, v]) => v.dataSync().slice() as Float32Array)];
      tf.dispose([x, y]);
      model.dispose();
      opt.dispose();
      return out;
    };
    const same = (a: Float32Array[], b: Float32Array[]): boolean => a.length === b.length && a.every((v, i) => v.every((e, j) => Object.is(e, b[i]![j])));
    try {
      addon.setThreads(1);
      const one = await run();
      addon.setThreads(Math.max(2, threads));
      const many = await run();
      expect(same(await run(), many)).toBe(true);
      for (let i = 0; i < one.length; i++) {
        const scale = Math.max(1e-3, ...Array.from(one[i]!, Math.abs));
        const err = Math.max(...Array.from(one[i]!, (v, j) => Math.abs(v - many[i]![j]!)));
        // Adam divides by the root of tiny second moments, which magnifies rounding in the parameters.
        expect(err / scale, `tensor ${i}`).toBeLessThan(i === 0 ? 1e-5 : 1e-3);
      }
    } finally {
      addon.setThreads(threads);
    }
  });

  it("a training step leaves no tensors behind, and skips the update on a loss that is not finite", async () => {
    await tf.setBackend("native");
    const model = models["baby-gpt"].createModel({ vocabSize: 65, seed: 2 });
    const params = model.namedParameters();
    const opt = new Optimizer(configs[2]!);
    const x = tf.tensor2d(new Int32Array(2 * 16).fill(3), [2, 16], "int32");
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) expect((await trainStep(model, params, x, x, opt, 1e-3, 1)).applied).toBe(true);
    expect(tf.memory().numTensors).toBe(before + params.length * 2); // the moments
    const w = params[0]![1];
    const nan = tf.fill(w.shape, Number.NaN);
    w.assign(nan);
    nan.dispose();
    const weights = params.map(([, v]) => Array.from(v.dataSync()));
    const step = opt.step;
    const r = await trainStep(model, params, x, x, opt, 1e-3, 1);
    expect(r.applied).toBe(false);
    expect(Number.isNaN(r.loss)).toBe(true);
    expect(opt.step).toBe(step);
    expect(params.map(([, v]) => Array.from(v.dataSync()))).toEqual(weights);
    expect(tf.memory().numTensors).toBe(before + params.length * 2);
    tf.dispose(x);
    model.dispose();
    opt.dispose();
  });
});

// The native backend's kernels for the ops of runtime/ops against the ops' references (what the cpu
// backend runs, having no kernels for them): each op's value and gradients, attention at the context
// lengths the real models use (T = 64, where the native kernel starts skipping masked blocks, and 256),
// with and without biases and dropout; then a generated model's loss and gradients, and a profile of the
// trainer's step showing that each op's kernel is what runs there, with none of the references' kernels.
//
// Skipped, with the reason in the suite's name, where the addon is not built (no g++ or OpenBLAS).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSpec } from "../../compiler/spec/load.js";
import { models } from "../../generated/index.js";
import { resolveModel } from "../../runtime/model-source.js";
import type { LanguageModel } from "../../runtime/nn/language-model.js";
import { tf } from "../../runtime/nn/tf.js";
import {
  causalAttention,
  crossEntropy,
  definedOps,
  dropout,
  embedding,
  expertMix,
  gatedActivation,
  gelu,
  globalNorm,
  layerNorm,
  linear,
  multiHeadCausalAttention,
  pendingStashes,
  rmsNorm,
  rope,
  rotaryTables,
} from "../../runtime/ops/index.js";
import { alibiSlopes, type ScoreShaping } from "../../runtime/ops/score-shaping.js";
import { Prng } from "../../runtime/random.js";
import { Optimizer } from "../../runtime/train/optimizer.js";
import { trainStep } from "../../runtime/train/step.js";
import { nativeUnavailable } from "../helpers/native.js";
import { PROJECT_ROOT } from "../helpers/project.js";
import { expectSame, headsOf, relErr, TestData, valueAndGrads } from "./compare.js";

const skipReason = nativeUnavailable();
const data = new TestData(20240611);
const randn = (shape: number[], scale = 1): Float32Array => data.randn(shape, scale);

type Inputs = Array<[Float32Array, number[]]>;

/** Ops the native backend leaves to their reference; every other op must have its kernels. */
const REFERENCE_ONLY: ReadonlySet<string> = new Set<string>([]);
const nativeOps = (): ReturnType<typeof definedOps> => definedOps().filter((op) => !REFERENCE_ONLY.has(op.name));
/** Models whose training steps, together, use every op (a new op needs a model that uses it here). */
const PROFILED = ["baby-gpt", "dropout", "modern"] as const;
/**
 * Specs outside generated/ whose steps are profiled too, each with the ops that must run in their native
 * kernels there and the kernels their references would run instead: the score shaping (window, ALiBi,
 * caps) in both attention layouts, and a mixture of experts' expert mix (whose reference slices each
 * expert's share out of the routing weights; its router's softmax is a tf op of its own), which no model
 * of the ladder uses.
 */
const ATTENTION_REFERENCE = ["Softmax", "BatchMatMul"];
const PROFILED_SPECS = [
  ["test/parity/specs/shaping.yaml", ["BabygptMultiHeadAttention", "BabygptCausalAttention"], ATTENTION_REFERENCE],
  ["test/parity/specs/moe.yaml", ["BabygptExpertMix"], ["Slice"]],
] as const;

function attentionInputs(B: number, T: number, C: number, H: number, D: number, withBias: boolean): Inputs {
  const inputs: Inputs = [[randn([B, T, C]), [B, T, C]]];
  for (let i = 0; i < 3 * H; i++) inputs.push([randn([D, C], 0.5), [D, C]]);
  if (withBias) for (let i = 0; i < 3 * H; i++) inputs.push([randn([D]), [D]]);
  return inputs;
}

describe.skipIf(skipReason !== undefined)(`the ops' native kernels${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  it("every op has a native kernel, and a gradient kernel when it is differentiable", () => {
    const native = new Set(tf.getKernelsForBackend("native").map((k) => k.kernelName));
    const ops = nativeOps();
    expect(ops.length).toBeGreaterThanOrEqual(9);
    for (const op of ops) {
      expect(native.has(op.name), op.name).toBe(true);
      if (op.gradName) expect(native.has(op.gradName), op.gradName).toBe(true);
    }
  });

  it("linear (with and without bias), layer norm, GELU, cross-entropy, embedding: values and gradients", async () => {
    const x: [Float32Array, number[]] = [randn([3, 5, 8]), [3, 5, 8]];
    const w: [Float32Array, number[]] = [randn([6, 8]), [6, 8]];
    await expectSame(valueAndGrads((xs, ws, bs) => linear(xs, ws, bs), [x, w, [randn([6]), [6]]]), 1e-5);
    await expectSame(valueAndGrads((xs, ws) => linear(xs, ws), [x, w]), 1e-5);
    const shape = [2, 7, 16];
    await expectSame(valueAndGrads((xs, g, b) => layerNorm(xs, g, b, 1e-5), [[randn(shape, 2), shape], [randn([16]), [16]], [randn([16]), [16]]]), 1e-5);
    await expectSame(valueAndGrads((xs) => gelu(xs), [[randn(shape, 2), shape]]), 1e-5);

    const logits = randn([2, 6, 11], 3);
    const targets = data.randint(12, 11);
    targets[3] = 11; // out of range: one-hot zeros, no loss and no gradient for that row
    await expectSame(() => {
      const l = tf.tensor(logits, [2, 6, 11]) as tf.Tensor3D;
      const t = tf.tensor(targets, [2, 6], "int32") as tf.Tensor2D;
      return [crossEntropy(l, t), tf.grad((v: tf.Tensor) => crossEntropy(v as tf.Tensor3D, t))(l)];
    }, 1e-5);

    const indices = data.randint(12, 9);
    await expectSame(valueAndGrads((table) => embedding(table as tf.Tensor2D, tf.tensor(indices, [3, 4], "int32")), [[randn([9, 4]), [9, 4]]]), 1e-6);
  });

  it("dropout: tf.dropout's mask for the seed, and its gradient", async () => {
    await expectSame(valueAndGrads((xs) => dropout(xs, 0.3, 12345), [[randn([3, 50, 7]), [3, 50, 7]]]), 1e-6);
  });

  it("the global norm: tf.sqrt(tf.addN(sums of squares)) to the bit", async () => {
    const shapes = [[123, 45], [7], [1000]];
    const values = shapes.map((s) => randn(s, 3));
    await expectSame(() => globalNorm(values.map((v, i) => tf.tensor(v, shapes[i]!))), 0);
  });

  // The key biases' gradients are zero but for rounding (a row's softmax ignores a shift common to the
  // row), so errors are taken relative to at least 1.
  const attentionCases = [
    { B: 2, T: 7, C: 12, H: 3, D: 5, bias: false, rate: 0 },
    { B: 2, T: 7, C: 12, H: 3, D: 5, bias: true, rate: 0 },
    { B: 2, T: 64, C: 16, H: 2, D: 8, bias: false, rate: 0 },
    { B: 1, T: 64, C: 16, H: 2, D: 8, bias: true, rate: 0.2 },
    { B: 1, T: 130, C: 16, H: 2, D: 8, bias: false, rate: 0 }, // blocks of 64 and a remainder, as sampling's growing context meets
    { B: 1, T: 256, C: 16, H: 2, D: 8, bias: false, rate: 0 },
    { B: 1, T: 256, C: 16, H: 2, D: 8, bias: false, rate: 0.2 },
  ];
  for (const { B, T, C, H, D, bias, rate } of attentionCases) {
    it(`multi-head attention, T = ${T}, ${H} heads of ${D}${bias ? ", with biases" : ""}${rate ? `, dropout ${rate}` : ""}: values and gradients`, async () => {
      const seeds = Array.from({ length: H }, (_, h) => 1000 + h);
      const f = (x: tf.Tensor, ...p: tf.Tensor[]): tf.Tensor => multiHeadCausalAttention(x as tf.Tensor3D, headsOf(p, H, bias), D ** -0.5, rate, rate > 0 ? seeds : []);
      await expectSame(valueAndGrads(f, attentionInputs(B, T, C, H, D, bias)), 1e-5, 1);
    });
  }

  // The cases below draw their data after the ones above, which keep theirs.
  // Rows of a model's width, and rows of one head (the q/k norm), one odd; an input far from zero mean.
  const rmsCases = [
    { shape: [2, 7, 16], offset: 0 },
    { shape: [2, 3, 5, 6], offset: 0 },
    { shape: [3, 13], offset: 50 },
    { shape: [0, 16], offset: 0 },
  ];
  for (const { shape, offset } of rmsCases) {
    it(`RMS norm over ${JSON.stringify(shape)}${offset ? `, inputs near ${offset}` : ""}: values and gradients`, async () => {
      const C = shape[shape.length - 1]!;
      const x = Float32Array.from(randn(shape, 2), (v) => v + offset);
      await expectSame(valueAndGrads((xs, g) => rmsNorm(xs, g, 1e-5), [[x, shape], [randn([C]), [C]]]), 1e-5);
    });
  }

  // The gated MLP's activation, each kind: the value and both gradients (gate's through act', up's).
  for (const activation of ["relu", "gelu", "silu", "relu2"] as const) {
    it(`gated activation (${activation}): values and gradients of gate and up`, async () => {
      const shape = [2, 5, 12];
      await expectSame(valueAndGrads((g, u) => gatedActivation(g, u, activation), [[randn(shape, 2), shape], [randn(shape), shape]]), 1e-5);
    });
  }

  // Grouped causal attention of projected heads: plain multi-head (KV = H), grouped and multi-query,
  // more keys than queries (a KV cache), the kernel's row blocks (T = 64, 130), odd sizes, dropout.
  const groupedCases = [
    { B: 2, H: 3, KV: 3, Tq: 7, Tk: 7, D: 5, rate: 0 },
    { B: 2, H: 4, KV: 2, Tq: 9, Tk: 9, D: 6, rate: 0 },
    { B: 1, H: 4, KV: 1, Tq: 5, Tk: 5, D: 3, rate: 0 },
    { B: 2, H: 4, KV: 2, Tq: 3, Tk: 11, D: 4, rate: 0 },
    { B: 1, H: 2, KV: 1, Tq: 1, Tk: 6, D: 4, rate: 0 },
    { B: 1, H: 2, KV: 2, Tq: 64, Tk: 64, D: 8, rate: 0 },
    { B: 1, H: 2, KV: 1, Tq: 70, Tk: 130, D: 8, rate: 0 },
    { B: 2, H: 4, KV: 2, Tq: 64, Tk: 64, D: 8, rate: 0.2 },
    { B: 1, H: 2, KV: 1, Tq: 5, Tk: 9, D: 4, rate: 0.3 },
    { B: 2, H: 2, KV: 1, Tq: 0, Tk: 4, D: 4, rate: 0 },
  ];
  for (const { B, H, KV, Tq, Tk, D, rate } of groupedCases) {
    it(`causal attention, ${H} query heads on ${KV} kv heads of ${D}, ${Tq} queries on ${Tk} keys${rate ? `, dropout ${rate}` : ""}: values and gradients`, async () => {
      const f = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor): tf.Tensor => causalAttention(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, D ** -0.5, rate, 4321);
      const qShape = [B, H, Tq, D];
      const kShape = [B, KV, Tk, D];
      await expectSame(valueAndGrads(f, [[randn(qShape), qShape], [randn(kShape), kShape], [randn(kShape), kShape]]), 1e-5, 1);
    });
  }

  // RoPE over whole heads and over part of them (fraction < 1: the rest passes through), at an offset (a
  // KV cache's later positions), odd sizes, no positions at all. Only x gets a gradient: the tables are
  // the model's constants.
  const ropeCases = [
    { B: 2, H: 3, T: 5, hs: 8, dims: 8, P: 5, offset: 0 },
    { B: 1, H: 2, T: 7, hs: 6, dims: 4, P: 7, offset: 0 },
    { B: 2, H: 1, T: 3, hs: 10, dims: 6, P: 12, offset: 9 },
    { B: 1, H: 2, T: 0, hs: 4, dims: 4, P: 4, offset: 2 },
  ];
  for (const { B, H, T, hs, dims, P, offset } of ropeCases) {
    it(`RoPE of ${dims} of ${hs} features, ${T} positions from ${offset}: values and the gradient`, async () => {
      const f = (x: tf.Tensor): tf.Tensor => {
        const [cos, sin] = rotaryTables(P, dims, 10000);
        return rope(x as tf.Tensor4D, cos, sin, offset);
      };
      const shape = [B, H, T, hs];
      await expectSame(valueAndGrads(f, [[randn(shape), shape]]), 1e-5);
    });
  }

  // A mixture of experts' MLPs: gated or not, with biases or without, one, two or every expert per token,
  // and an expert no token chose (its gradients are zeros). chosen is a constant (routing's integers):
  // the gradients are of x, the weights and every expert's matrices.
  const mixCases = [
    { B: 2, T: 7, C: 8, H: 12, E: 4, K: 2, activation: "silu", gated: true, bias: false, idle: -1 },
    { B: 1, T: 9, C: 6, H: 10, E: 3, K: 1, activation: "gelu", gated: false, bias: true, idle: -1 },
    { B: 2, T: 5, C: 8, H: 16, E: 4, K: 1, activation: "relu", gated: false, bias: true, idle: 3 },
    { B: 1, T: 6, C: 4, H: 8, E: 3, K: 3, activation: "relu2", gated: true, bias: true, idle: -1 },
  ] as const;
  for (const { B, T, C, H, E, K, activation, gated, bias, idle } of mixCases) {
    it(`expert mix, ${K} of ${E} ${gated ? "gated " : ""}${activation} experts${bias ? " with biases" : ""}${idle >= 0 ? ", one chosen by no token" : ""}: values and gradients`, async () => {
      // Each token's K distinct experts, drawn from those a token may choose.
      const allowed = Array.from({ length: E }, (_, e) => e).filter((e) => e !== idle);
      const picks = data.randint(B * T * allowed.length, 1 << 30);
      const chosen = new Int32Array(B * T * K);
      for (let t = 0; t < B * T; t++) {
        const order = allowed.map((e, i) => [picks[t * allowed.length + i]!, e] as const).sort((a, b) => a[0] - b[0]);
        for (let k = 0; k < K; k++) chosen[t * K + k] = order[k]![1];
      }
      const per = gated ? 3 : 2;
      const shapes = [...(gated ? [[H, C]] : []), [H, C], [C, H]];
      const inputs: Inputs = [[randn([B, T, C]), [B, T, C]], [Float32Array.from(randn([B, T, K]), Math.abs), [B, T, K]]];
      for (let e = 0; e < E; e++) for (const s of shapes) inputs.push([randn(s, 0.4), s]);
      if (bias) for (let e = 0; e < E; e++) for (const s of shapes) inputs.push([randn([s[0]!], 0.2), [s[0]!]]);
      const f = (x: tf.Tensor, w: tf.Tensor, ...p: tf.Tensor[]): tf.Tensor => {
        const proj = (e: number, j: number) => ({ weight: p[e * per + j]!, bias: bias ? p[E * per + e * per + j] : undefined });
        const experts = Array.from({ length: E }, (_, e) => ({ ...(gated ? { gate: proj(e, 0) } : {}), fc: proj(e, per - 2), proj: proj(e, per - 1) }));
        return expertMix(x as tf.Tensor3D, w as tf.Tensor3D, tf.tensor3d(chosen, [B, T, K], "int32"), experts, activation);
      };
      await expectSame(valueAndGrads(f, inputs), 1e-5, 1e-6);
      expect(pendingStashes()).toBe(0);
    });
  }

  // Score shaping (score-shaping.ts) in both attention kernels: each extension alone and all together, a
  // window that cuts the kernels' row blocks (T = 64, 130: the products skip keys no row of a block sees),
  // a window that leaves keys no query sees (their gradients zero; Tk = 100 makes a whole column block of
  // them), ALiBi on 3 heads (the slopes' interleaving rule), a cap that saturates (scores of several
  // times it), with dropout, GQA, a KV cache's longer keys and empty queries.
  const shapingOf = (H: number, s: { window?: number; alibi?: boolean; softcap?: number }): ScoreShaping => ({
    window: s.window ?? 0,
    alibiSlopes: s.alibi ? alibiSlopes(H) : [],
    softcap: s.softcap ?? 0,
  });
  const describeShaping = (s: ScoreShaping): string =>
    [s.window ? `window ${s.window}` : "", s.alibiSlopes.length ? "ALiBi" : "", s.softcap ? `cap ${s.softcap}` : ""].filter(Boolean).join(", ");

  const shapedHeadsCases = [
    { B: 2, T: 7, C: 12, H: 3, D: 5, bias: false, rate: 0, window: 3 },
    { B: 2, T: 7, C: 12, H: 3, D: 5, bias: true, rate: 0, alibi: true },
    { B: 2, T: 7, C: 12, H: 3, D: 5, bias: false, rate: 0, softcap: 1.5 },
    { B: 2, T: 9, C: 12, H: 4, D: 3, bias: true, rate: 0, window: 4, alibi: true, softcap: 2.5 },
    { B: 1, T: 64, C: 16, H: 2, D: 8, bias: true, rate: 0.2, window: 20, alibi: true, softcap: 3 },
    { B: 1, T: 130, C: 16, H: 3, D: 8, bias: false, rate: 0, window: 50, alibi: true, softcap: 2 },
  ];
  for (const { B, T, C, H, D, bias, rate, ...shape } of shapedHeadsCases) {
    const shaping = shapingOf(H, shape);
    it(`multi-head attention with ${describeShaping(shaping)}, T = ${T}, ${H} heads of ${D}${bias ? ", with biases" : ""}${rate ? `, dropout ${rate}` : ""}: values and gradients`, async () => {
      const seeds = Array.from({ length: H }, (_, h) => 2000 + h);
      const f = (x: tf.Tensor, ...p: tf.Tensor[]): tf.Tensor => multiHeadCausalAttention(x as tf.Tensor3D, headsOf(p, H, bias), D ** -0.5, rate, rate > 0 ? seeds : [], shaping);
      await expectSame(valueAndGrads(f, attentionInputs(B, T, C, H, D, bias)), 1e-5, 1);
    });
  }

  const shapedGroupedCases = [
    { B: 2, H: 4, KV: 2, Tq: 9, Tk: 9, D: 6, rate: 0, window: 3 },
    { B: 2, H: 4, KV: 2, Tq: 3, Tk: 11, D: 4, rate: 0, alibi: true },
    { B: 1, H: 3, KV: 1, Tq: 5, Tk: 5, D: 3, rate: 0, softcap: 1.5 },
    { B: 2, H: 4, KV: 2, Tq: 3, Tk: 11, D: 4, rate: 0, window: 2, alibi: true, softcap: 2 },
    { B: 1, H: 2, KV: 1, Tq: 4, Tk: 100, D: 4, rate: 0, window: 3, alibi: true },
    { B: 1, H: 2, KV: 1, Tq: 1, Tk: 6, D: 4, rate: 0, window: 2, softcap: 1 },
    { B: 2, H: 4, KV: 2, Tq: 64, Tk: 64, D: 8, rate: 0.2, window: 20, alibi: true, softcap: 3 },
    { B: 1, H: 2, KV: 1, Tq: 70, Tk: 130, D: 8, rate: 0, window: 50, alibi: true, softcap: 2 },
    { B: 1, H: 2, KV: 1, Tq: 5, Tk: 9, D: 4, rate: 0.3, window: 4, softcap: 2 },
    { B: 2, H: 2, KV: 1, Tq: 0, Tk: 4, D: 4, rate: 0, window: 2, alibi: true, softcap: 2 },
  ];
  for (const { B, H, KV, Tq, Tk, D, rate, ...shape } of shapedGroupedCases) {
    const shaping = shapingOf(H, shape);
    it(`causal attention with ${describeShaping(shaping)}, ${H} query heads on ${KV} kv heads of ${D}, ${Tq} queries on ${Tk} keys${rate ? `, dropout ${rate}` : ""}: values and gradients`, async () => {
      const f = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor): tf.Tensor => causalAttention(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, D ** -0.5, rate, 4321, shaping);
      const qShape = [B, H, Tq, D];
      const kShape = [B, KV, Tk, D];
      await expectSame(valueAndGrads(f, [[randn(qShape, 2), qShape], [randn(kShape, 2), kShape], [randn(kShape), kShape]]), 1e-5, 1);
    });
  }

  // ---- a generated model ----

  async function lossAndGrads(backend: string, name: keyof typeof models, B: number, T: number): Promise<number[][]> {
    await tf.setBackend(backend);
    const model = models[name].createModel({ vocabSize: 65, seed: 5 });
    model.dropoutSeeds.reseed(3); // the same dropout masks on both backends
    const rng = new Prng(11);
    const idx = tf.tensor2d(Int32Array.from({ length: B * T }, () => rng.nextInt(65)), [B, T], "int32");
    const tgt = tf.tensor2d(Int32Array.from({ length: B * T }, () => rng.nextInt(65)), [B, T], "int32");
    const vars = model.namedParameters().map(([, v]) => v);
    const { value, grads } = tf.variableGrads(() => model.forward(idx, tgt).loss!, vars);
    const out = [[value.dataSync()[0]!], ...vars.map((v) => Array.from(grads[v.name]!.dataSync()))];
    tf.dispose([value, idx, tgt, ...Object.values(grads)]);
    model.dispose();
    return out;
  }

  const modelCases = [
    ["baby-gpt", 2, 16],
    ["baby-gpt", 1, 64], // its full context: the attention kernel's block-skipping path
    ["dropout", 3, 8], // dropout in training, on the attention weights and after the layers
    ["modern", 2, 16], // RMS norms (q/k norms too) and grouped-query attention of projected heads
  ] as const;
  for (const [name, B, T] of modelCases) {
    it(`${name} at B = ${B}, T = ${T}: loss and every gradient equal the references' on the cpu backend (rel err ≤ 1e-4)`, async () => {
      const cpu = await lossAndGrads("cpu", name, B, T);
      const native = await lossAndGrads("native", name, B, T);
      expect(native.length).toBe(cpu.length);
      expect(Math.abs(native[0]![0]! - cpu[0]![0]!) / Math.abs(cpu[0]![0]!)).toBeLessThanOrEqual(1e-4);
      for (let i = 1; i < cpu.length; i++) {
        expect(relErr(native[i]!, cpu[i]!), `gradient ${i}`).toBeLessThanOrEqual(1e-4);
      }
    });
  }

  /** The kernels one training step of the model runs (it must free every stash), disposing the model. */
  async function kernelsOfStep(model: LanguageModel, what: string): Promise<Set<string>> {
    const ran = new Set<string>();
    const params = model.namedParameters();
    const optimizer = new Optimizer({ type: "adamw", lr: 1e-3, betas: [0.9, 0.99], eps: 1e-8, weight_decay: 0.1 });
    const T = Math.min(16, model.blockSize);
    const x = tf.tensor2d(data.randint(2 * T, 65), [2, T], "int32");
    const profile = await tf.profile(async () => void (await trainStep(model, params, x, x, optimizer, 1e-3, 1)));
    for (const k of profile.kernels) ran.add(k.name);
    expect(pendingStashes(), what).toBe(0);
    tf.dispose(x);
    optimizer.dispose();
    model.dispose();
    return ran;
  }
  // What the references would run instead: attention's softmax and batched products, LayerNorm's
  // moments, cross-entropy's one-hot targets, the embedding's gather, GELU's erf, the optimizer's square roots.
  const REFERENCE_KERNELS = ["Softmax", "BatchMatMul", "SquaredDifference", "OneHot", "GatherV2", "Sqrt", "Erf"];

  it("the trainer's step runs every op's kernel on native, none of the references' kernels, and frees every stash", async () => {
    await tf.setBackend("native");
    const ran = new Set<string>();
    for (const name of PROFILED) for (const k of await kernelsOfStep(models[name].createModel({ vocabSize: 65, seed: 1 }), name)) ran.add(k);
    for (const k of REFERENCE_KERNELS) expect(ran.has(k), k).toBe(false);
    for (const [spec] of PROFILED_SPECS) {
      const path = join(PROJECT_ROOT, spec);
      const { module } = await resolveModel(path, loadSpec(path, { cwd: PROJECT_ROOT }), { compile: false, sets: [] });
      for (const k of await kernelsOfStep(module.createModel({ vocabSize: 65, seed: 1 }), spec)) ran.add(k);
    }
    for (const op of nativeOps()) {
      expect(ran.has(op.name), op.name).toBe(true);
      if (op.gradName) expect(ran.has(op.gradName), op.gradName).toBe(true);
    }
  });

  for (const [spec, ops, references] of PROFILED_SPECS) {
    it(`${spec}: the trainer's step runs ${ops.join(" and ")} in their native kernels (its attrs' extensions declared), not their references`, async () => {
      const path = join(PROJECT_ROOT, spec);
      const { module } = await resolveModel(path, loadSpec(path, { cwd: PROJECT_ROOT }), { compile: false, sets: [] });
      await tf.setBackend("native");
      const ran = await kernelsOfStep(module.createModel({ vocabSize: 65, seed: 1 }), spec);
      for (const op of ops) {
        expect(ran.has(op), op).toBe(true);
        expect(ran.has(`${op}Grad`), `${op}Grad`).toBe(true);
      }
      for (const k of references) expect(ran.has(k), k).toBe(false);
    });
  }
});

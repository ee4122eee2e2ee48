// The webgpu backend's WGSL kernels (runtime/webgpu/kernels) against the ops' references on the cpu
// backend: layer norm, all-heads causal attention (T = 7 and 130, with biases, with dropout), cross-entropy,
// the optimizer's update and the gradient norm, each value and gradient; then the trainer's step on a
// generated model, showing each kernel runs there and none of the references' kernels, and that neither
// training nor sampling leaks tensors or GPU bytes (tf.memory() flat).
//
// In CI the adapter is lavapipe (WebGPU on the CPU, slow, and every new shader shape is compiled by LLVM),
// so the sizes are small: they still take every code path of the kernels (rows wider than a workgroup,
// several heads, the T = 64 tiles).
import { describe, expect, it } from "vitest";
import { models } from "../../generated/index.js";
import { tf } from "../../runtime/nn/tf.js";
import { crossEntropy, globalNorm, layerNorm, multiHeadCausalAttention, pendingStashes } from "../../runtime/ops/index.js";
import { Prng } from "../../runtime/random.js";
import { generate } from "../../runtime/sample.js";
import { Optimizer } from "../../runtime/train/optimizer.js";
import { trainStep } from "../../runtime/train/step.js";
import { WEBGPU_BACKEND } from "../../runtime/webgpu/backend.js";
import { webgpuUnavailable } from "../helpers/webgpu.js";
import { expectSame, headsOf, relErr, TestData, valueAndGrads } from "../native/compare.js";

const skipReason = await webgpuUnavailable();
const data = new TestData(20261201);
const randn = (shape: number[], scale = 1): Float32Array => data.randn(shape, scale);
/** The ops that have a WGSL kernel; the rest (linear, GELU, dropout, embedding) run tfjs-webgpu's shaders. */
const KERNEL_OPS = ["BabygptLayerNorm", "BabygptMultiHeadAttention", "BabygptCrossEntropy", "BabygptOptimizerStep", "BabygptGlobalNorm"];

describe.skipIf(skipReason !== undefined)(`the webgpu backend's kernels${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  it("registers a kernel for each op it accelerates, and a gradient kernel for each differentiable one", async () => {
    const names = new Set(tf.getKernelsForBackend(WEBGPU_BACKEND).map((k) => k.kernelName));
    for (const op of KERNEL_OPS) expect(names.has(op), op).toBe(true);
    for (const grad of ["BabygptLayerNormGrad", "BabygptMultiHeadAttentionGrad", "BabygptCrossEntropyGrad"]) expect(names.has(grad), grad).toBe(true);
  });

  it("layer norm (a row narrower and one wider than a workgroup) and cross-entropy: values and gradients", async () => {
    for (const C of [16, 300]) {
      const shape = [2, 5, C];
      await expectSame(valueAndGrads((xs, g, b) => layerNorm(xs, g, b, 1e-5), [[randn(shape, 2), shape], [randn([C]), [C]], [randn([C]), [C]]]), 1e-5, 0, WEBGPU_BACKEND);
    }
    const logits = randn([2, 6, 300], 3);
    const targets = data.randint(12, 300);
    targets[3] = 300; // out of range: no loss and no gradient for that row, as the reference's one-hot gives
    await expectSame(() => {
      const l = tf.tensor(logits, [2, 6, 300]) as tf.Tensor3D;
      const t = tf.tensor(targets, [2, 6], "int32") as tf.Tensor2D;
      return [crossEntropy(l, t), tf.grad((v: tf.Tensor) => crossEntropy(v as tf.Tensor3D, t))(l)];
    }, 1e-5, 0, WEBGPU_BACKEND);
  });

  // The key biases' gradients are zero but for rounding, so errors are taken relative to at least 1.
  // Two cases between them take biases or none, dropout or none, a row shorter than the kernels' 64-thread
  // workgroup and one that loops over it (T = 130: two passes and a remainder); each new head size is a new
  // shader to compile on lavapipe, so there are only two.
  const attentionCases = [
    { B: 2, T: 7, C: 12, H: 3, D: 5, bias: true, rate: 0.2 },
    { B: 1, T: 130, C: 16, H: 2, D: 8, bias: false, rate: 0 },
  ];
  for (const { B, T, C, H, D, bias, rate } of attentionCases) {
    it(`multi-head attention, T = ${T}, ${H} heads of ${D}${bias ? ", with biases" : ""}${rate ? `, dropout ${rate}` : ""}: values and gradients`, async () => {
      const seeds = Array.from({ length: H }, (_, h) => 1000 + h);
      const f = (x: tf.Tensor, ...p: tf.Tensor[]): tf.Tensor => multiHeadCausalAttention(x as tf.Tensor3D, headsOf(p, H, bias), D ** -0.5, rate, rate > 0 ? seeds : []);
      const inputs: Array<[Float32Array, number[]]> = [[randn([B, T, C]), [B, T, C]]];
      for (let i = 0; i < 3 * H; i++) inputs.push([randn([D, C], 0.5), [D, C]]);
      if (bias) for (let i = 0; i < 3 * H; i++) inputs.push([randn([D]), [D]]);
      await expectSame(valueAndGrads(f, inputs), 1e-5, 1, WEBGPU_BACKEND);
    });
  }

  it("the gradient norm over tensors of several sizes", async () => {
    const shapes = [[123, 45], [7], [1000]];
    const values = shapes.map((s) => randn(s, 3));
    await expectSame(() => globalNorm(values.map((v, i) => tf.tensor(v, shapes[i]!))), 1e-6, 0, WEBGPU_BACKEND);
  });

  it("SGD, Adam and AdamW updates (with a clipping scale) give the parameters and moments the cpu gives", async () => {
    const shapes = [[33, 7], [5], [300]];
    const start = shapes.map((s) => randn(s));
    const grads = [0, 1, 2].map(() => shapes.map((s) => randn(s, 0.1)));
    for (const type of ["sgd", "adam", "adamw"] as const) {
      const run = async (backend: string): Promise<Float32Array[]> => {
        await tf.setBackend(backend);
        const params = start.map((v, i) => [`p${i}`, tf.variable(tf.tensor(v, shapes[i]!))] as const);
        const opt = new Optimizer({ type, lr: 1e-2, betas: [0.9, 0.99], eps: 1e-8, weight_decay: 0.1 });
        for (const g of grads) {
          const gs = g.map((v, i) => tf.tensor(v, shapes[i]!));
          opt.applyGradients(params, gs, 1e-2, 0.5);
          tf.dispose(gs);
        }
        const out: Float32Array[] = [];
        for (const t of [...params.map(([, v]) => v), ...opt.state().slots.values()]) out.push((await t.data()) as Float32Array);
        opt.dispose();
        tf.dispose(params.map(([, v]) => v));
        return out;
      };
      const cpu = await run("cpu");
      const gpu = await run(WEBGPU_BACKEND);
      expect(gpu.length).toBe(cpu.length);
      cpu.forEach((c, i) => expect(relErr(gpu[i]!, c), `${type} tensor ${i}`).toBeLessThanOrEqual(1e-5));
    }
  });

  it("the trainer's step runs each kernel and none of the references' kernels; training and sampling hold tf.memory() flat", async () => {
    await tf.setBackend(WEBGPU_BACKEND);
    // 09-layernorm: layer norm, multi-head attention, cross-entropy; grad_clip 1 for the gradient norm.
    const model = models["layernorm"].createModel({ vocabSize: 65, seed: 1 });
    const params = model.namedParameters();
    const optimizer = new Optimizer({ type: "adamw", lr: 1e-3, betas: [0.9, 0.99], eps: 1e-8, weight_decay: 0.1 });
    const T = model.blockSize;
    const x = tf.tensor2d(data.randint(2 * T, 65), [2, T], "int32");
    const y = tf.tensor2d(data.randint(2 * T, 65), [2, T], "int32");
    const profile = await tf.profile(async () => void (await trainStep(model, params, x, y, optimizer, 1e-3, 1)));
    const ran = new Set(profile.kernels.map((k) => k.name));
    for (const op of KERNEL_OPS) expect(ran.has(op), op).toBe(true);
    for (const k of ["Softmax", "SquaredDifference", "OneHot", "Sqrt"]) expect(ran.has(k), k).toBe(false);
    expect(pendingStashes()).toBe(0);

    const before = tf.memory();
    const losses: number[] = [];
    for (let i = 0; i < 5; i++) losses.push((await trainStep(model, params, x, y, optimizer, 1e-2, 1)).loss);
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect(losses[4]!).toBeLessThan(losses[0]!); // the same batch five times: the updates reach the weights

    model.eval();
    // A first pass through the sliding window fills the caches that stay (a causal mask per shape the KV
    // window uses); a second must then hold the count.
    await generate(model, [0], { tokens: 12, temperature: 1, rng: new Prng(1) });
    const sampling = tf.memory();
    await generate(model, [0], { tokens: 12, temperature: 1, rng: new Prng(2) }); // the context grows to block_size and slides
    expect(tf.memory().numTensors).toBe(sampling.numTensors);
    expect(tf.memory().numBytes).toBe(sampling.numBytes);
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  });
});

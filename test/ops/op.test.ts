// The op layer (runtime/ops/op.ts) with a backend that registers kernels the way a new backend would,
// knowing nothing of runtime/nn: a test backend (the cpu backend's class under another name) gets a
// forward kernel and a gradient kernel for a small op, which keep their tensors through the op layer's
// stash (keepTensorInfos). Its kernel runs where registered, the reference everywhere else; training
// without a gradient kernel takes the reference; the stash is freed after the gradient, or at the next
// tape when the gradient was never asked for; withReferenceOps forces the reference.
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/nn/tf.js";
import { defineOp, gradientStash, keepTensorInfos, pendingStashes, runOp, withReferenceOps } from "../../runtime/ops/op.js";

const BACKEND = "opstest";

/** y = x · w with w broadcast over the rows of x (C): x (R, C), w (C). */
const SCALE_COLUMNS = defineOp("TestScaleColumns");

function scaleColumns(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  return runOp(SCALE_COLUMNS, { x, w }, { note: "attrs reach the kernels" }) ?? tf.mul(x, w);
}

const calls = { forward: 0, grad: 0 };

interface Args {
  inputs: NamedTensorInfoMap;
  backend: MathBackendCPU;
  attrs?: NamedAttrMap;
}

function valuesOf(b: MathBackendCPU, t: TensorInfo): Float32Array {
  return b.data.get(t.dataId).values as Float32Array;
}

function forward({ inputs, backend: b, attrs }: Args): TensorInfo {
  calls.forward++;
  expect(attrs?.["note"]).toBe("attrs reach the kernels");
  const { x, w } = inputs as { x: TensorInfo; w: TensorInfo };
  const xv = valuesOf(b, x);
  const wv = valuesOf(b, w);
  const C = wv.length;
  const y = xv.map((v, i) => v * wv[i % C]!);
  const stash = gradientStash(attrs);
  if (stash) keepTensorInfos(stash, b, { x, w });
  return b.makeTensorInfo(x.shape, "float32", y);
}

function gradient({ inputs, backend: b, attrs }: Args): TensorInfo[] {
  calls.grad++;
  const stash = gradientStash(attrs)!;
  expect(stash.gradInputs).toEqual(["x", "w"]);
  const { x, w } = stash.kept as { x: TensorInfo; w: TensorInfo };
  const xv = valuesOf(b, x);
  const wv = valuesOf(b, w);
  const dy = valuesOf(b, inputs["dy"]!);
  const C = wv.length;
  const dx = dy.map((v, i) => v * wv[i % C]!);
  const dw = new Float32Array(C);
  dy.forEach((v, i) => (dw[i % C] = dw[i % C]! + v * xv[i]!));
  return [b.makeTensorInfo(x.shape, "float32", dx), b.makeTensorInfo(w.shape, "float32", dw)];
}

const register = (kernelName: string, f: (args: Args) => TensorInfo | TensorInfo[]): void =>
  tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc: f as unknown as KernelFunc });

const X = Float32Array.from({ length: 12 }, (_, i) => i / 3 - 1.5);
const W = Float32Array.of(0.5, -2, 3);

/** The value, and the gradients of sum(y · r) for a fixed r, on the active backend. */
function valueAndGrads(): number[][] {
  return tf.tidy(() => {
    const x = tf.tensor2d(X, [4, 3]);
    const w = tf.tensor1d(W);
    const r = tf.tensor2d(Float32Array.from({ length: 12 }, (_, i) => (i % 5) - 2), [4, 3]);
    const y = scaleColumns(x, w);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(scaleColumns(a, b), r)))([x, w]);
    return [y, dx!, dw!].map((t) => Array.from(t.dataSync()));
  });
}

describe("the op layer", () => {
  let expected: number[][];

  beforeAll(async () => {
    await tf.setBackend("cpu");
    expected = valueAndGrads(); // no kernel on cpu: the reference and tfjs's own gradients
    tf.registerBackend(
      BACKEND,
      () => Object.assign(new MathBackendCPU(), { firstUse: false }), // no "install tfjs-node" banner
      0,
    );
    for (const k of tf.getKernelsForBackend("cpu")) tf.registerKernel({ ...k, backendName: BACKEND });
    register(SCALE_COLUMNS.name, forward);
    register(SCALE_COLUMNS.gradName!, gradient);
    await tf.setBackend(BACKEND);
  });

  afterAll(async () => {
    await tf.setBackend("cpu");
    tf.removeBackend(BACKEND);
  });

  it("runs the backend's kernels, forward and backward, and they give the reference's values", () => {
    const before = { ...calls };
    const ids = tf.engine().backend.numDataIds();
    const got = valueAndGrads();
    expect(calls.forward - before.forward).toBe(2); // y, and the y inside tf.grads
    expect(calls.grad - before.grad).toBe(1);
    got.forEach((values, i) => values.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 5)));
    // What the forward kernel kept for the gradient was freed once the gradient kernel ran.
    expect(pendingStashes()).toBe(0);
    expect(tf.engine().backend.numDataIds()).toBe(ids);
  });

  it("runs the reference inside withReferenceOps", () => {
    const before = { ...calls };
    const got = withReferenceOps(valueAndGrads);
    expect(calls).toEqual(before);
    got.forEach((values, i) => values.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 5)));
  });

  it("frees what a kernel kept for a gradient that never ran when the next tape starts", () => {
    const ids = tf.engine().backend.numDataIds();
    const x = tf.tensor2d(X, [4, 3]);
    const w = tf.tensor1d(W);
    // The op's output does not reach the loss: the backward pass prunes its node, so its gradient never runs.
    const g = tf.grad((a: tf.Tensor) => {
      scaleColumns(a, w);
      return tf.sum(tf.square(a));
    })(x);
    g.dispose();
    expect(pendingStashes()).toBe(1);
    tf.dispose([x, w]);
    expect(tf.engine().backend.numDataIds()).toBe(ids + 2); // x's and w's data, kept for that gradient
    valueAndGrads();
    expect(pendingStashes()).toBe(0);
    expect(tf.engine().backend.numDataIds()).toBe(ids);
  });

  it("takes the reference under a gradient tape when the backend has no gradient kernel, and its kernel elsewhere", () => {
    tf.unregisterKernel(SCALE_COLUMNS.gradName!, BACKEND);
    try {
      const before = { ...calls };
      const got = valueAndGrads();
      expect(calls.forward - before.forward).toBe(1); // y only; inside tf.grads, the reference
      expect(calls.grad - before.grad).toBe(0);
      got.forEach((values, i) => values.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 5)));
    } finally {
      register(SCALE_COLUMNS.gradName!, gradient);
    }
  });

  it("takes the reference for inputs of another dtype than the kernel's", () => {
    const before = { ...calls };
    const y = scaleColumns(tf.tensor2d([1, 2, 3], [1, 3], "int32"), tf.tensor1d([2, 2, 2], "int32"));
    expect(calls).toEqual(before);
    expect(Array.from(y.dataSync())).toEqual([2, 4, 6]);
  });
});

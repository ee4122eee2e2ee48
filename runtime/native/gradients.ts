// Faster gradients for tfjs kernels that generated models use a lot: Mean, Sum, Softmax, GatherV2 (the
// embedding lookup) and Relu, each one native kernel on the native backend.
//
// tfjs's gradient of Mean and of Sum multiplies dy by a tensor of ones the size of the input, made fresh
// in JavaScript each time (tf.ones fills it element by element), and its gradient of Softmax is four
// kernels. A layer norm written with tf.moments takes two Means, and attention a Softmax, so a baby GPT
// step spent milliseconds on these. Here each is one native kernel computing the same values: dy
// broadcast and divided by the reduced size (exactly as tfjs's `div(mul(dy, ones), n)`), and
// y * (dy - sum(dy * y)) for softmax.
//
// Gradients are registered per kernel name for every backend, so each replacement checks the active
// backend and calls tfjs's own gradient function everywhere but on the native backend.
import type { GradConfig, KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, NamedTensorMap, TensorInfo } from "@tensorflow/tfjs";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { tf } from "../nn/tf.js";
import { BinaryOp, type NativeAddon } from "./addon.js";
import { allocF32 } from "./pool.js";
import { f32, sizeOf } from "./storage.js";

const BACKEND = "native";
const BROADCAST_DIV = "BabygptBroadcastDiv";
const SOFTMAX_GRAD = "BabygptSoftmaxGrad";
const GATHER_GRAD = "BabygptGatherGrad";
const RELU_GRAD = "BabygptReluGrad";

interface Args {
  inputs: NamedTensorInfoMap;
  backend: object;
  attrs?: NamedAttrMap;
}

let addon: NativeAddon;
const P = new Int32Array(1 + 3 * 8);

// out (attrs.shape) = x broadcast to that shape, divided by attrs.divisor.
const broadcastDiv: KernelConfig = {
  kernelName: BROADCAST_DIV,
  backendName: BACKEND,
  kernelFunc: ((args: Args) => {
    const b = args.backend as MathBackendCPU;
    const x = args.inputs["x"]!;
    const shape = args.attrs?.["shape"] as number[];
    const xv = f32(b, x)!;
    const rank = shape.length;
    P[0] = rank;
    for (let i = 0; i < rank; i++) {
      P[1 + i] = shape[i]!;
      P[1 + rank + i] = x.shape[i]!;
      P[1 + 2 * rank + i] = 1;
    }
    const o = allocF32(sizeOf(shape));
    addon.binary(BinaryOp.Div, xv, Float32Array.of(Number(args.attrs?.["divisor"])), o, P);
    return b.makeTensorInfo(shape, "float32", o);
  }) as unknown as KernelFunc,
};

// dx = y * (dy - sum(dy * y)) over the last axis.
const softmaxGrad: KernelConfig = {
  kernelName: SOFTMAX_GRAD,
  backendName: BACKEND,
  kernelFunc: ((args: Args) => {
    const b = args.backend as MathBackendCPU;
    const { y, dy } = args.inputs as Record<string, TensorInfo>;
    const yv = f32(b, y)!;
    const cols = y!.shape[y!.shape.length - 1]!;
    const o = allocF32(yv.length);
    if (cols > 0) addon.softmaxGrad(yv, f32(b, dy)!, o, yv.length / cols, cols);
    return b.makeTensorInfo(y!.shape.slice(), "float32", o);
  }) as unknown as KernelFunc,
};

// The gradient of a gather along axis 0 of x [rows, ...inner]: out (attrs.shape, x's) = the rows of dy
// [indices.size, ...inner] summed into the rows the indices name (UnsortedSegmentSum, without the two
// transposes and reshapes tfjs's gradient wraps it in).
const gatherGrad: KernelConfig = {
  kernelName: GATHER_GRAD,
  backendName: BACKEND,
  kernelFunc: ((args: Args) => {
    const b = args.backend as MathBackendCPU;
    const { dy, indices } = args.inputs as Record<string, TensorInfo>;
    const shape = args.attrs?.["shape"] as number[];
    const ids = b.data.get(indices!.dataId).values as Int32Array;
    const inner = sizeOf(shape.slice(1));
    const o = allocF32(sizeOf(shape));
    addon.segmentSum(f32(b, dy)!, ids, o, inner, shape[0]!);
    return b.makeTensorInfo(shape, "float32", o);
  }) as unknown as KernelFunc,
};

// dx = dy * step(x) (tfjs's ReLU gradient), from x or from y = relu(x), which agree: y > 0 exactly where
// x > 0, and both are NaN where x is.
const reluGrad: KernelConfig = {
  kernelName: RELU_GRAD,
  backendName: BACKEND,
  kernelFunc: ((args: Args) => {
    const b = args.backend as MathBackendCPU;
    const { x, dy } = args.inputs as Record<string, TensorInfo>;
    const xv = f32(b, x)!;
    const o = allocF32(xv.length);
    addon.reluGrad(xv, f32(b, dy)!, o);
    return b.makeTensorInfo(x!.shape.slice(), "float32", o);
  }) as unknown as KernelFunc,
};

function run(kernelName: string, inputs: NamedTensorMap, attrs: NamedAttrMap = {}): tf.Tensor {
  return tf.engine().runKernel(kernelName, inputs, attrs) as tf.Tensor;
}

function onNative(...ts: tf.Tensor[]): boolean {
  return tf.getBackend() === BACKEND && ts.every((t) => t.dtype === "float32" && t.rank <= 8);
}

/** dy of a reduction over `axis` of x, broadcast back to x's shape and divided by `divisor(n)`. */
function reductionGrad(name: string, divisor: (reduced: number) => number): void {
  const original = tf.getGradient(name);
  if (!original) return;
  const config: GradConfig = {
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const g = dy as tf.Tensor;
      if (!onNative(x, g)) return original.gradFunc(dy, saved, attrs);
      const axes = tf.util.parseAxisParam(attrs["axis"] as number | number[], x.shape);
      const expanded = x.shape.slice();
      let reduced = 1;
      for (const ax of new Set(axes)) {
        reduced *= x.shape[ax]!;
        expanded[ax] = 1;
      }
      return { x: () => run(BROADCAST_DIV, { x: tf.reshape(g, expanded) }, { shape: x.shape, divisor: divisor(reduced) }) };
    },
  };
  tf.registerGradient(config);
}

function registerSoftmaxGrad(): void {
  const original = tf.getGradient("Softmax");
  if (!original) return;
  tf.registerGradient({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const [y] = saved as [tf.Tensor];
      const g = dy as tf.Tensor;
      const dim = Number(attrs["dim"] ?? -1);
      const last = dim === -1 || dim === y.rank - 1;
      if (!onNative(y, g) || !last) return original.gradFunc(dy, saved, attrs);
      return { logits: () => run(SOFTMAX_GRAD, { y, dy: g }) };
    },
  });
}

function registerGatherGrad(): void {
  const original = tf.getGradient("GatherV2");
  if (!original) return;
  tf.registerGradient({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const [x, indices] = saved as [tf.Tensor, tf.Tensor];
      const g = dy as tf.Tensor;
      const axis = tf.util.parseAxisParam(attrs["axis"] as number, x.shape)[0];
      const simple = axis === 0 && Number(attrs["batchDims"] ?? 0) === 0 && indices.dtype === "int32" && x.rank >= 1;
      if (!simple || !onNative(x, g) || g.size !== indices.size * (x.size / Math.max(x.shape[0]!, 1))) return original.gradFunc(dy, saved, attrs);
      return { x: () => run(GATHER_GRAD, { dy: g, indices }, { shape: x.shape }), indices: () => indices };
    },
  });
}

/**
 * ReLU's gradient from its output rather than its input, on every backend: dy * step(relu(x)) equals
 * dy * step(x) exactly, and the output is usually kept anyway (the next layer's input), while the input
 * would be kept for this alone; on the native backend it is one kernel instead of three.
 */
function registerReluGrad(): void {
  const original = tf.getGradient("Relu");
  if (!original) return;
  tf.registerGradient({
    kernelName: "Relu",
    inputsToSave: [],
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [y] = saved as [tf.Tensor];
      const g = dy as tf.Tensor;
      if (!onNative(y, g)) return { x: () => tf.mul(g, tf.cast(tf.step(y), "float32")) };
      const dx = run(RELU_GRAD, { x: y, dy: g });
      // dy was made during backprop (it is younger than the saved output) and nothing reads it again:
      // freed now rather than at the end of the backward pass (see runtime/ops/op.ts's gradient).
      if (g.id > y.id) g.dispose();
      return { x: () => dx };
    },
  });
}

let registered = false;

/** Registers the kernels on the native backend and the backend-checking gradients (once). */
export function registerNativeGradients(a: NativeAddon): void {
  addon = a;
  if (registered) return;
  tf.registerKernel(broadcastDiv);
  tf.registerKernel(softmaxGrad);
  tf.registerKernel(gatherGrad);
  tf.registerKernel(reluGrad);
  reductionGrad("Mean", (n) => n);
  reductionGrad("Sum", () => 1);
  registerSoftmaxGrad();
  registerGatherGrad();
  registerReluGrad();
  registered = true;
}

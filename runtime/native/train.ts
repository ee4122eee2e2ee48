// The native kernels of the training ops (runtime/ops/optimizer-step.ts and global-norm.ts): the
// optimizer's update and the gradient norm, each one addon call over all parameters instead of a dozen
// tf ops per parameter (which cost a baby GPT step ~8 ms of engine work for ~1 ms of arithmetic). The
// addon reproduces the ops' references float32 step by step (runtime/native/src/exact.cc), so both give
// the same bits.
//
// The update is in place. The op layer makes each parameter and moment the only tensor holding its data;
// its array is rewritten only when nothing outside the backend can see it either (no view was made of it,
// readSync never handed it out; see pool.ts's isExclusive). Otherwise the data first gets a private
// copy, as assign() would give the variable a new array, and whoever held the old one still sees the
// old values.
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from "@tensorflow/tfjs";
import { tf } from "../nn/tf.js";
import { GLOBAL_NORM, OPTIMIZER_STEP, type OptimizerStepAttrs } from "../ops/index.js";
import type { NativeAddon } from "./addon.js";
import { allocOwned, isExclusive, noteHeld, noteReleased } from "./pool.js";
import { f32 } from "./storage.js";

const BACKEND = "native";
let addon: NativeAddon;

interface Args {
  inputs: NamedTensorInfoMap;
  backend: object;
  attrs?: NamedAttrMap;
}

function define(kernelName: string, f: (b: MathBackendCPU, args: Args) => TensorInfo | TensorInfo[]): KernelConfig {
  return {
    kernelName,
    backendName: BACKEND,
    kernelFunc: ((args: Args) => f(args.backend as MathBackendCPU, args)) as unknown as KernelFunc,
  };
}

function values(b: MathBackendCPU, t: TensorInfo | undefined, what: string): Float32Array {
  const v = f32(b, t);
  if (!v || v.length !== t!.shape.reduce((n, d) => n * d, 1)) throw new Error(`native training kernel: ${what} must be a float32 tensor`);
  return v;
}

/**
 * The tensor's values, safe to update in place: its own array when nothing else can see it, else a
 * private copy that its data now holds (the old array stays as it was for whoever has it).
 */
function ownValues(b: MathBackendCPU, t: TensorInfo | undefined, what: string): Float32Array {
  const vals = values(b, t, what);
  const data = b.data.get(t!.dataId) as { values: unknown; refCount: number };
  if (data.refCount !== 1) throw new Error(`${OPTIMIZER_STEP.name}: ${what} shares its data with another tensor`);
  if (isExclusive(vals)) return vals;
  const copy = allocOwned(vals.length);
  copy.set(vals);
  data.values = copy;
  noteHeld(copy);
  noteReleased(vals);
  return copy;
}

const config = new Float64Array(13);

// Every constant below is the JavaScript number the reference passes to its tf op, which the addon
// rounds to float32 as the op would.
const optimizerStep = define(OPTIMIZER_STEP.name, (b, { inputs, attrs }) => {
  const s = attrs as unknown as OptimizerStepAttrs;
  const adam = s.type !== "sgd";
  const n = s.count;
  const list = inputs as unknown as TensorInfo[]; // parameters, gradients, first moments, second moments
  const g: Float32Array[] = new Array<Float32Array>(n);
  const p: Float32Array[] = new Array<Float32Array>(n);
  const mv: Float32Array[] | null = adam ? new Array<Float32Array>(n) : null;
  const vv: Float32Array[] | null = adam ? new Array<Float32Array>(n) : null;
  for (let i = 0; i < n; i++) g[i] = values(b, list[n + i], "a gradient");
  // Only now, with every gradient read, may data be given a private copy (which changes no value, so an
  // error below still leaves every tensor as it was).
  for (let i = 0; i < n; i++) {
    p[i] = ownValues(b, list[i], "a parameter");
    if (mv && vv) {
      mv[i] = ownValues(b, list[2 * n + i], "a first moment");
      vv[i] = ownValues(b, list[3 * n + i], "a second moment");
    }
  }
  const bc1 = 1 - s.beta1 ** s.step;
  const bc2 = 1 - s.beta2 ** s.step;
  config[0] = adam ? 1 : 0;
  config[1] = s.type === "adamw" && s.weightDecay > 0 ? 1 : 0;
  config[2] = s.gradScale !== 1 ? 1 : 0;
  config[3] = s.lr;
  config[4] = s.beta1;
  config[5] = 1 - s.beta1;
  config[6] = s.beta2;
  config[7] = 1 - s.beta2;
  config[8] = Math.sqrt(bc2);
  config[9] = s.eps;
  config[10] = s.lr / bc1;
  config[11] = 1 - s.lr * s.weightDecay;
  config[12] = s.gradScale;
  addon.optimizerStep(config, p, g, mv, vv);
  return [];
});

// Each tensor's float32 sum of squares (as tf.sum(tf.square(t))), added in order in float32 (addN), and
// the float32 square root.
const globalNorm = define(GLOBAL_NORM.name, (b, { inputs }) => {
  const arrays = (inputs as unknown as TensorInfo[]).map((t) => values(b, t, "a tensor"));
  const sums = new Float32Array(arrays.length);
  addon.sumSquares(arrays, sums);
  let total = 0;
  for (const s of sums) total = Math.fround(total + s);
  return b.makeTensorInfo([], "float32", Float32Array.of(Math.fround(Math.sqrt(total))));
});

let registered = false;

/** Called by registerNativeBackend. */
export function registerNativeTraining(a: NativeAddon): void {
  addon = a;
  if (registered) return;
  tf.registerKernel(optimizerStep);
  tf.registerKernel(globalNorm);
  registered = true;
}


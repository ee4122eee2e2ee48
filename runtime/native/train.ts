// The optimizer step and the gradient norm on the native backend, each one addon call over all
// parameters instead of a dozen tf ops per parameter (which cost a baby GPT step ~8 ms of engine work
// for ~1 ms of arithmetic). runtime/train/optimizer.ts and clip.ts call these when the native backend is
// active and keep their tf-op code for every other backend; the addon reproduces those ops' float32
// arithmetic step by step (runtime/native/src/exact.cc), so both give the same bits.
//
// The update is in place: a parameter's (or moment's) array is rewritten only when nothing outside the
// backend can see it (one tensor holds it, no view was made of it, readSync never handed it out; see
// pool.ts's isExclusive). Otherwise the variable first gets a private copy, as assign() would give it a
// new array, and whoever held the old one still sees the old values.
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { tf } from "../nn/tf.js";
import type { NativeAddon } from "./addon.js";
import { allocOwned, isExclusive } from "./pool.js";
import { f32, isF32 } from "./storage.js";

const BACKEND = "native";
let addon: NativeAddon | undefined;

/** Called by registerNativeBackend. */
export function registerNativeTraining(a: NativeAddon): void {
  addon = a;
}

function backend(): MathBackendCPU | undefined {
  if (addon === undefined || tf.getBackend() !== BACKEND) return undefined;
  return tf.backend() as unknown as MathBackendCPU;
}

/** True when the native optimizer step and norm can run: the native backend is active. */
export function nativeTrainingActive(): boolean {
  return backend() !== undefined;
}

/** The float32 values of each tensor in the active native backend, or undefined if any is not such. */
function valuesOf(b: MathBackendCPU, ts: readonly tf.Tensor[]): Float32Array[] | undefined {
  const out: Float32Array[] = [];
  for (const t of ts) {
    const v = f32(b, t);
    if (!v || v.length !== t.size) return undefined;
    out.push(v);
  }
  return out;
}

/**
 * The variable's values, safe to update in place: its own array when nothing else can see it, else a
 * private copy that the variable now holds (the old array stays as it was for whoever has it). Undefined
 * when the variable is not a float32 tensor of this backend.
 */
function ownValues(b: MathBackendCPU, v: tf.Variable): Float32Array | undefined {
  if (v.dtype !== "float32") return undefined;
  const data = b.data.get(v.dataId) as { values?: unknown; refCount?: number } | undefined;
  const values = data?.values;
  if (!isF32(values) || values.length !== v.size) return undefined;
  if (data!.refCount === 1 && isExclusive(values)) return values;
  const copy = allocOwned(values.length);
  copy.set(values);
  const t = tf.tensor(copy, v.shape, "float32");
  v.assign(t);
  t.dispose();
  return copy;
}

/** A new variable of zeros shaped like `like`, held in an array the optimizer may update in place. */
export function nativeZerosVariable(like: tf.Tensor): tf.Variable {
  const values = allocOwned(like.size).fill(0);
  const t = tf.tensor(values, like.shape, "float32");
  const v = tf.variable(t, false);
  t.dispose();
  return v;
}

export interface NativeOptimizerStep {
  readonly type: "sgd" | "adam" | "adamw";
  readonly lr: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  /** Adam's step count t, after this step (bias correction). */
  readonly step: number;
  /** Gradients are multiplied by this first (clipping); 1 leaves them. */
  readonly gradScale: number;
}

const config = new Float64Array(13);

/**
 * One optimizer step on the native backend over params[i] from grads[i] (with moments m[i], v[i] for
 * Adam), or false (nothing done) when some tensor is not a float32 tensor of the native backend. The
 * arithmetic is optimizer.ts's tf ops', constant for constant: each constant below is the JavaScript
 * number the tf version passes to its op, which the addon rounds to float32 as the op would.
 */
export function nativeOptimizerStep(
  s: NativeOptimizerStep,
  params: readonly tf.Variable[],
  grads: readonly tf.Tensor[],
  m: readonly tf.Variable[],
  v: readonly tf.Variable[],
): boolean {
  const b = backend();
  if (!b || !addon) return false;
  const adam = s.type !== "sgd";
  const n = params.length;
  const g: Float32Array[] = new Array<Float32Array>(n);
  const p: Float32Array[] = new Array<Float32Array>(n);
  const mv: Float32Array[] | null = adam ? new Array<Float32Array>(n) : null;
  const vv: Float32Array[] | null = adam ? new Array<Float32Array>(n) : null;
  for (let i = 0; i < n; i++) {
    const gi = f32(b, grads[i]);
    if (!gi || gi.length !== params[i]!.size) return false;
    g[i] = gi;
  }
  // Only now, with every gradient in place, may a variable be given a private copy (which changes no
  // value, so a refusal below still leaves the tf-op path a consistent state).
  for (let i = 0; i < n; i++) {
    const pi = ownValues(b, params[i]!);
    if (!pi) return false;
    p[i] = pi;
    if (mv && vv) {
      const mi = ownValues(b, m[i]!);
      const vi = ownValues(b, v[i]!);
      if (!mi || !vi || mi.length !== pi.length || vi.length !== pi.length) return false;
      mv[i] = mi;
      vv[i] = vi;
    }
  }
  const [b1, b2] = s.betas;
  const bc1 = 1 - b1 ** s.step;
  const bc2 = 1 - b2 ** s.step;
  config[0] = adam ? 1 : 0;
  config[1] = s.type === "adamw" && s.weightDecay > 0 ? 1 : 0;
  config[2] = s.gradScale !== 1 ? 1 : 0;
  config[3] = s.lr;
  config[4] = b1;
  config[5] = 1 - b1;
  config[6] = b2;
  config[7] = 1 - b2;
  config[8] = Math.sqrt(bc2);
  config[9] = s.eps;
  config[10] = s.lr / bc1;
  config[11] = 1 - s.lr * s.weightDecay;
  config[12] = s.gradScale;
  addon.optimizerStep(config, p, g, mv, vv);
  return true;
}

/**
 * For each gradient, the float32 sum of its squares, as tf.sum(tf.square(g)) gives on this backend; or
 * undefined when some tensor is not a float32 tensor of the native backend.
 */
export function nativeSumSquares(ts: readonly tf.Tensor[]): Float32Array | undefined {
  const b = backend();
  if (!b || !addon) return undefined;
  const values = valuesOf(b, ts);
  if (!values) return undefined;
  const out = new Float32Array(ts.length);
  addon.sumSquares(values, out);
  return out;
}

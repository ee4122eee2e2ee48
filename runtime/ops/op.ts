// The op layer: an op is one fused operation of the models (layer norm, attention, cross-entropy, ...)
// with one name, one reference implementation in plain tf ops, and kernels registered per backend in
// tfjs's own kernel registry under that name. Each op's function reads
//   return runOp(LAYER_NORM, inputs, attrs) ?? layerNormReference(...);
// runOp runs the active backend's kernel when it has one (and gives undefined otherwise), so the
// reference is both the math a reader reads and what every backend without a kernel computes (tfjs
// differentiates it like any other tf code).
//
// A backend plugs in with tf.registerKernel alone (runtime/native/fused.ts does it for "native"):
//   - `<name>` (inputs and attrs as the op's file documents them) computes the forward pass;
//   - `<name>Grad` (inputs { dy }, the forward call's attrs) returns the gradients of the inputs listed in
//     attrs.saved.gradInputs, in that order.
// The gradient of every op is registered here, by op name, once for all backends: it runs the
// backend's `<name>Grad` kernel. A backend with only the forward kernel runs it where no gradient is
// taken (sampling, evaluation) and the reference while the tape records (training).
//
// What a gradient kernel needs is not kept as tensors on the tape: the engine would keep a clone of each
// (a kernel call apiece), and a forward kernel's extra outputs (statistics, probabilities) would each get
// a gradient of zeros made in JavaScript during backprop. Instead, while the tape records, runOp puts a
// GradientStash in the attrs (the engine hands the same attrs object to the gradient): the forward kernel
// leaves there what its gradient kernel reads, and a function that frees it, which the op layer calls
// once the gradient kernel ran (or, for an op whose gradient was never asked for, when the next gradient
// tape starts recording).
import type { KernelBackend, NamedAttrMap, NamedTensorMap, TensorInfo } from "@tensorflow/tfjs";
// The op layer sits below runtime/nn: it takes tfjs from the umbrella package itself, as nn/tf.ts does.
import * as tf from "@tensorflow/tfjs";

export interface Op {
  /** The forward kernel's name, as backends register it and tf.profile lists it. */
  readonly name: string;
  /**
   * Attrs the op gained after its first kernels were written (attention's window, ALiBi slopes, score
   * cap): a backend's kernel runs a call that sets one only where the backend declared it implements it
   * (declareExtensions); elsewhere the reference runs, rather than a kernel that would ignore it.
   */
  readonly extensions: readonly string[];
  /** The gradient kernel's name; undefined for ops that are never differentiated (the optimizer's update). */
  readonly gradName: string | undefined;
  /** Inputs the kernels take as int32 (indices, targets): they get no gradient. All others are float32. */
  readonly intInputs: ReadonlySet<string>;
}

export interface OpOptions {
  readonly intInputs?: readonly string[];
  /** Attrs a kernel must declare it implements before it runs a call that sets them (Op.extensions). */
  readonly extensions?: readonly string[];
  /** False for an op no gradient runs through; it then has no `<name>Grad` kernel. Default true. */
  readonly differentiable?: boolean;
}

const ops = new Map<string, Op>();

/** Declares an op and, unless it is not differentiable, registers its gradient (by name, for every backend). */
export function defineOp(name: string, options: OpOptions = {}): Op {
  if (ops.has(name)) throw new Error(`op ${name} is defined twice`);
  const differentiable = options.differentiable ?? true;
  const op: Op = { name, gradName: differentiable ? `${name}Grad` : undefined, intInputs: new Set(options.intInputs ?? []), extensions: options.extensions ?? [] };
  ops.set(name, op);
  if (op.gradName) registerOpGradient(op, op.gradName);
  return op;
}

/** Every op defined so far (runtime/ops/index.ts imports them all). */
export function definedOps(): readonly Op[] {
  return [...ops.values()];
}

/**
 * What the forward kernel keeps for its gradient kernel, in attrs.saved while the tape records the call
 * (absent otherwise: then nothing may be kept, since no gradient will come to free it).
 */
export interface GradientStash {
  /** The inputs that get gradients, in the order the gradient kernel returns them. */
  readonly gradInputs: readonly string[];
  /** The shapes of the int32 inputs, which get gradients of zeros (set by runOp). */
  intShapes?: Readonly<Record<string, readonly number[]>>;
  /** Set by the forward kernel: its backend's own record, read by its gradient kernel. */
  kept?: unknown;
  /** Set by the forward kernel when it kept something: frees it. Called once, by the op layer. */
  release?: () => void;
  /** The id of the forward call's output (set by runOp). */
  outId?: number;
  /** Which gradient tape recorded the call (set by runOp). */
  readonly tape: number;
}

/** The stash in a kernel's attrs: present exactly when the tape records the forward call. */
export function gradientStash(attrs: NamedAttrMap | undefined): GradientStash | undefined {
  return (attrs as { saved?: GradientStash } | undefined)?.saved;
}

/**
 * For a backend whose gradient kernel reads tensors (a GPU backend): keeps `inputs` alive past their
 * disposal (one more reference each on the backend) and takes `made` (tensor infos the forward kernel
 * allocated for the gradient, which no tensor holds) as its own; all are disposed on release. The
 * gradient kernel finds them all in stash.kept by name.
 */
export function keepTensorInfos(
  stash: GradientStash,
  backend: KernelBackend,
  inputs: Readonly<Record<string, TensorInfo>>,
  made: Readonly<Record<string, TensorInfo>> = {},
): void {
  for (const t of Object.values(inputs)) backend.incRef(t.dataId);
  const all = { ...inputs, ...made };
  stash.kept = all;
  stash.release = () => {
    for (const t of Object.values(all)) backend.disposeData(t.dataId);
  };
}

// ---- dispatch ----

/** The extensions each backend's kernels implement, by op name and backend: `${op}|${backend}`. */
const implemented = new Map<string, ReadonlySet<string>>();

/** Declares that a backend's kernel for `op` implements these of its extensions (Op.extensions). */
export function declareExtensions(op: Op, backendName: string, extensions: readonly string[]): void {
  implemented.set(`${op.name}|${backendName}`, new Set(extensions));
}

/** Whether an extension attr is set: a nonzero number, true, or a nonempty list. */
function isSet(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : typeof value === "number" ? value !== 0 : value === true;
}

let referenceDepth = 0;

/**
 * Runs f with every op computing its reference, whatever kernels the backend has: for tests, and for
 * measuring a kernel against the composite it replaces.
 */
export function withReferenceOps<T>(f: () => T): T {
  referenceDepth++;
  try {
    return f();
  } finally {
    referenceDepth--;
  }
}

/** True when the engine records the op about to run on a gradient tape (so its gradient may be asked). */
function recording(): boolean {
  const state = tf.engine().state;
  return state.gradientDepth > 0 && state.kernelDepth === 0;
}

/**
 * An op's inputs: by name, or (for an op over a list of tensors, as tfjs's AddN and Concat take theirs)
 * an array, which saves an op over all parameters hundreds of names per call.
 */
export type OpInputs = Readonly<Record<string, tf.Tensor>> | readonly tf.Tensor[];

/**
 * True when the active backend's kernel will run for these inputs (and attrs): the backend registered it,
 * every input has the dtype the kernels take, it implements the extensions the attrs set, and, while a
 * gradient tape records, the gradient kernel exists.
 */
export function kernelRuns(op: Op, inputs: OpInputs, attrs?: object): boolean {
  if (referenceDepth > 0) return false;
  const backend = tf.getBackend();
  if (!tf.getKernel(op.name, backend)) return false;
  if (attrs && op.extensions.length > 0) {
    const has = implemented.get(`${op.name}|${backend}`);
    for (const e of op.extensions) if (isSet((attrs as Record<string, unknown>)[e]) && !has?.has(e)) return false;
  }
  if (Array.isArray(inputs)) {
    for (const t of inputs as readonly tf.Tensor[]) if (t.dtype !== "float32") return false;
  } else {
    const named = inputs as Readonly<Record<string, tf.Tensor>>;
    for (const name in named) if (named[name]!.dtype !== (op.intInputs.has(name) ? "int32" : "float32")) return false;
  }
  return op.gradName === undefined || !recording() || tf.getKernel(op.gradName, backend) !== undefined;
}

/**
 * The op's output from the active backend's kernel, or undefined when kernelRuns says no (the caller then
 * computes the reference). `attrs` is copied, so one object may serve several calls.
 */
export function runOp<T extends tf.Tensor>(op: Op, inputs: OpInputs, attrs: object): T | undefined {
  return kernelRuns(op, inputs, attrs) ? (runKernel(op, inputs, attrs)[0] as T) : undefined;
}

/** Runs the op's kernel (the caller checked kernelRuns) and returns its outputs. */
export function runKernel(op: Op, inputs: OpInputs, attrs: object): tf.Tensor[] {
  const a: Record<string, unknown> = { ...attrs };
  let stash: GradientStash | undefined;
  if (op.gradName !== undefined && recording()) {
    const gradInputs: string[] = [];
    for (const name in inputs) if (!op.intInputs.has(name)) gradInputs.push(name);
    stash = openStash(gradInputs);
    if (op.intInputs.size > 0 && !Array.isArray(inputs)) {
      const named = inputs as Readonly<Record<string, tf.Tensor>>;
      stash.intShapes = Object.fromEntries([...op.intInputs].filter((n) => named[n] !== undefined).map((n) => [n, named[n]!.shape]));
    }
    a["saved"] = stash;
  }
  let out: tf.Tensor | tf.Tensor[];
  try {
    out = tf.engine().runKernel(op.name, inputs as NamedTensorMap, a as NamedAttrMap);
  } catch (e) {
    if (stash) releaseStash(stash);
    throw e;
  }
  const outs: tf.Tensor[] = Array.isArray(out) ? out : [out];
  if (stash) stash.outId = outs[0]?.id;
  return outs;
}

// ---- stashes ----

/** Stashes whose gradient has not run yet. */
const pending = new Set<GradientStash>();
/** A number per gradient tape (the engine makes a new tape array each time tf.grads starts recording). */
const tapeIds = new WeakMap<object, number>();
let tapeCount = 0;
let currentTape = 0;

function openStash(gradInputs: string[]): GradientStash {
  const tape = tf.engine().state.activeTape as object;
  let id = tapeIds.get(tape);
  if (id === undefined) tapeIds.set(tape, (id = ++tapeCount));
  if (id !== currentTape) {
    // A new tape: gradients of the previous ones can no longer run, so what their ops kept is freed.
    for (const s of pending) if (s.tape !== id) releaseStash(s);
    currentTape = id;
  }
  const s: GradientStash = { gradInputs, tape: id };
  pending.add(s);
  return s;
}

function releaseStash(s: GradientStash): void {
  pending.delete(s);
  const release = s.release;
  s.release = undefined;
  s.kept = undefined;
  release?.();
}

/** Stashes kept for gradients that have not run (for tests: 0 after a whole backward pass). */
export function pendingStashes(): number {
  return pending.size;
}

type GradThunks = Record<string, () => tf.Tensor>;

/**
 * The gradient of an op: its backend's gradient kernel on dy and the forward call's attrs (with the
 * stash, released once the kernel ran), handing each input its gradient.
 *
 * dy is disposed once used when it was made during backprop (its id is larger than the forward output's,
 * so it is not a dy the caller passed to tf.grads): tfjs keeps every intermediate gradient until the
 * whole backward pass ends, and each is read exactly once, by the node that made the tensor it is the
 * gradient of. Freed here, its memory serves the next layer's gradients (a lecture GPT step held
 * gigabytes of spent gradients). Tensors sharing its data keep the data.
 */
function registerOpGradient(op: Op, gradName: string): void {
  tf.registerGradient({
    kernelName: op.name,
    gradFunc: (dy, _saved, attrs): GradThunks => {
      const stash = gradientStash(attrs);
      if (!stash) throw new Error(`${op.name}: the forward call kept nothing for its gradient (it ran outside a gradient tape)`);
      const d = dy as tf.Tensor;
      let outs: tf.Tensor[];
      try {
        const r = tf.engine().runKernel(gradName, { dy: d }, attrs) as tf.Tensor | tf.Tensor[];
        outs = Array.isArray(r) ? r : [r];
      } finally {
        releaseStash(stash);
      }
      if (stash.outId !== undefined && d.id > stash.outId) d.dispose();
      const g: GradThunks = {};
      stash.gradInputs.forEach((name, i) => {
        const t = outs[i];
        if (t) g[name] = () => t;
      });
      // Integers (indices, the experts a router chose) have no gradient; where the tape traced one back to
      // the parameters (routing's argMax reads the router's scores), it gets zeros, as tfjs's own
      // integer-valued ops (ArgMax, OneHot) give theirs.
      for (const [name, shape] of Object.entries(stash.intShapes ?? {})) g[name] = () => tf.zeros(shape as number[]);
      return g;
    },
  });
}

// Optimizers written out rather than taken from tfjs: tfjs has no AdamW (decoupled weight decay), and
// owning the moment tensors lets checkpoints save and restore them by parameter name. Semantics follow
// PyTorch's SGD, Adam and AdamW (bias-corrected moments; AdamW decays every parameter by lr·wd).
//
// On the native backend one addon call updates every parameter (runtime/native/train.ts), computing
// exactly what the tf ops below compute, in place; elsewhere the tf ops run.
import type { OptimizerSpec } from "../../compiler/spec/types.generated.js";
import { UserError } from "../errors.js";
import { nativeOptimizerStep, nativeTrainingActive, nativeZerosVariable } from "../native/train.js";
import { tf } from "../nn/tf.js";

export interface OptimizerState {
  /** Steps taken so far (Adam's bias correction depends on it). */
  readonly step: number;
  /** Moment tensors by "<param>.exp_avg" / "<param>.exp_avg_sq". */
  readonly slots: ReadonlyMap<string, tf.Tensor>;
}

export class Optimizer {
  readonly config: OptimizerSpec;
  #step = 0;
  readonly #m = new Map<string, tf.Variable>();
  readonly #v = new Map<string, tf.Variable>();

  constructor(config: OptimizerSpec) {
    this.config = config;
  }

  get step(): number {
    return this.#step;
  }

  /**
   * Applies one update to each named parameter from its gradient, at learning rate `lr`. With gradScale,
   * each gradient is first multiplied by it (as clipping by the global norm scales them).
   */
  apply(params: ReadonlyArray<readonly [string, tf.Variable]>, grads: ReadonlyMap<string, tf.Tensor>, lr: number, gradScale = 1): void {
    this.applyGradients(
      params,
      params.map(([name]) => grads.get(name)),
      lr,
      gradScale,
    );
  }

  /** As apply, with the gradients in the parameters' order (undefined: no gradient, no update). */
  applyGradients(params: ReadonlyArray<readonly [string, tf.Variable]>, grads: ReadonlyArray<tf.Tensor | undefined>, lr: number, gradScale = 1): void {
    this.#step += 1;
    const { type, betas, eps, weight_decay } = this.config;
    if (nativeTrainingActive() && this.#applyNative(params, grads, lr, gradScale)) return;
    const [b1, b2] = betas;
    const t = this.#step;
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    tf.tidy(() => {
      params.forEach(([name, p], i) => {
        let g = grads[i];
        if (!g) return;
        if (gradScale !== 1) g = tf.mul(g, gradScale);
        if (type === "sgd") {
          p.assign(tf.sub(p, tf.mul(g, lr)));
          return;
        }
        const m = this.#slot(this.#m, name, p);
        const v = this.#slot(this.#v, name, p);
        m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
        // p -= lr · (m / bc1) / (sqrt(v / bc2) + eps), written as PyTorch does it
        const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), eps);
        const update = tf.mul(tf.div(m, denom), lr / bc1);
        const decayed = type === "adamw" && weight_decay > 0 ? tf.mul(p, 1 - lr * weight_decay) : p;
        p.assign(tf.sub(decayed, update));
      });
    });
  }

  /** The native backend's one-call update; false (nothing changed) when some tensor is not native float32. */
  #applyNative(params: ReadonlyArray<readonly [string, tf.Variable]>, grads: ReadonlyArray<tf.Tensor | undefined>, lr: number, gradScale: number): boolean {
    const { type, betas, eps, weight_decay } = this.config;
    const adam = type !== "sgd";
    const slots = adam ? this.#slotsFor(params) : undefined;
    const ps: tf.Variable[] = [];
    const gs: tf.Tensor[] = [];
    const ms: tf.Variable[] = [];
    const vs: tf.Variable[] = [];
    for (let i = 0; i < params.length; i++) {
      const g = grads[i];
      if (!g) continue;
      const p = params[i]![1];
      if (p.dtype !== "float32" || g.dtype !== "float32" || g.size !== p.size) return false;
      ps.push(p);
      gs.push(g);
      if (slots) {
        const name = params[i]![0];
        ms.push((slots.m[i] ??= this.#slot(this.#m, name, p)));
        vs.push((slots.v[i] ??= this.#slot(this.#v, name, p)));
      }
    }
    return nativeOptimizerStep({ type, lr, betas, eps, weightDecay: weight_decay, step: this.#step, gradScale }, ps, gs, ms, vs);
  }

  /**
   * The moments by the parameters' positions in this list, filled as parameters first get a gradient
   * (so that a step looks them up by index rather than by name).
   */
  #slotsFor(params: ReadonlyArray<readonly [string, tf.Variable]>): { m: Array<tf.Variable | undefined>; v: Array<tf.Variable | undefined> } {
    const cached = this.#slotCache;
    if (cached && cached.params === params && cached.length === params.length) return cached;
    const fresh = { params, length: params.length, m: params.map(([name]) => this.#m.get(name)), v: params.map(([name]) => this.#v.get(name)) };
    this.#slotCache = fresh;
    return fresh;
  }

  #slotCache:
    | { params: ReadonlyArray<readonly [string, tf.Variable]>; length: number; m: Array<tf.Variable | undefined>; v: Array<tf.Variable | undefined> }
    | undefined;

  #slot(map: Map<string, tf.Variable>, name: string, like: tf.Variable): tf.Variable {
    let s = map.get(name);
    if (!s) {
      s = nativeTrainingActive() ? nativeZerosVariable(like) : tf.variable(tf.zerosLike(like), false);
      map.set(name, s);
    }
    return s;
  }

  state(): OptimizerState {
    const slots = new Map<string, tf.Tensor>();
    for (const [n, m] of this.#m) slots.set(`${n}.exp_avg`, m);
    for (const [n, v] of this.#v) slots.set(`${n}.exp_avg_sq`, v);
    return { step: this.#step, slots };
  }

  /** Restores moments saved by state(); unknown slot names and wrong shapes are a UserError, so a mismatch is loud. */
  restore(step: number, slots: ReadonlyMap<string, tf.Tensor>, params: ReadonlyArray<readonly [string, tf.Variable]>): void {
    const byName = new Map(params);
    this.#step = step;
    for (const [key, value] of slots) {
      const match = /^(.*)\.(exp_avg|exp_avg_sq)$/.exec(key);
      const param = match ? byName.get(match[1]!) : undefined;
      if (!match || !param) throw new UserError(`it has ${key}, which matches no parameter of this model`);
      if (value.shape.length !== param.shape.length || value.shape.some((d, i) => d !== param.shape[i])) {
        throw new UserError(`${key} has shape [${value.shape.join(", ")}], the parameter has [${param.shape.join(", ")}]`);
      }
      const map = match[2] === "exp_avg" ? this.#m : this.#v;
      this.#slot(map, match[1]!, param).assign(value);
    }
  }

  dispose(): void {
    for (const s of [...this.#m.values(), ...this.#v.values()]) s.dispose();
    this.#m.clear();
    this.#v.clear();
    this.#slotCache = undefined;
  }
}

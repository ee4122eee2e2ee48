// Optimizers written out rather than taken from tfjs: tfjs has no AdamW (decoupled weight decay), and
// owning the moment tensors lets checkpoints save and restore them by parameter name. Semantics follow
// PyTorch's SGD, Adam and AdamW (bias-corrected moments; AdamW decays every parameter by lr·wd).
//
// This class keeps the state (the moments, the step count); the update's arithmetic is an op,
// runtime/ops/optimizer-step.ts, one kernel over all parameters on backends that have one.
import type { OptimizerSpec } from "../../compiler/index.js";
import { UserError } from "../errors.js";
import { tf } from "../nn/tf.js";
import { optimizerStep } from "../ops/optimizer-step.js";

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
    const adam = type !== "sgd";
    const ps: tf.Variable[] = [];
    const gs: tf.Tensor[] = [];
    const ms: tf.Variable[] = [];
    const vs: tf.Variable[] = [];
    params.forEach(([name, p], i) => {
      const g = grads[i];
      if (!g) return;
      ps.push(p);
      gs.push(g);
      if (adam) {
        ms.push(this.#slot(this.#m, name, p));
        vs.push(this.#slot(this.#v, name, p));
      }
    });
    const [beta1, beta2] = betas;
    optimizerStep({ type, lr, beta1, beta2, eps, weightDecay: weight_decay, step: this.#step, gradScale, count: ps.length }, ps, gs, ms, vs);
  }

  #slot(map: Map<string, tf.Variable>, name: string, like: tf.Variable): tf.Variable {
    let s = map.get(name);
    if (!s) {
      const zeros = tf.zerosLike(like);
      s = tf.variable(zeros, false);
      zeros.dispose();
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
      if (value.dtype !== "float32") throw new UserError(`${key} is ${value.dtype === "int32" ? "I32" : value.dtype}, where the moments are F32`);
      const map = match[2] === "exp_avg" ? this.#m : this.#v;
      this.#slot(map, match[1]!, param).assign(value);
    }
    // Adam's moments exist for every parameter once a step was taken: one missing would restart at zero unseen.
    if (this.config.type !== "sgd" && step > 0) {
      const missing = params.flatMap(([name]) => [...(this.#m.has(name) ? [] : [`${name}.exp_avg`]), ...(this.#v.has(name) ? [] : [`${name}.exp_avg_sq`])]);
      if (missing.length > 0) throw new UserError(`it lacks ${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ` and ${missing.length - 3} more` : ""}, which a run at step ${step} has`);
    }
  }

  dispose(): void {
    for (const s of [...this.#m.values(), ...this.#v.values()]) s.dispose();
    this.#m.clear();
    this.#v.clear();
  }
}

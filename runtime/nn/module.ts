// The base class of every generated layer: it owns named parameters and child modules (so parameters
// get stable dotted names like blocks.0.attn.heads.1.query.weight), a train/eval switch, and a share of
// its model's dropout seeds and of its auxiliary losses.
import type { AuxLosses } from "./aux-losses.js";
import type { DropoutSeeds } from "./dropout-seeds.js";
import { tf } from "./tf.js";

export abstract class Module {
  #training = true;
  #seeds: DropoutSeeds | undefined;
  #aux: AuxLosses | undefined;
  readonly #params: [string, tf.Variable][] = [];
  readonly #buffers: [string, tf.Tensor][] = [];
  readonly #children: [string, Module][] = [];
  /** Children applied more than once with the same weights (a shared repeat), and how many times. */
  readonly #applied = new Map<Module, number>();

  /** Registers a trainable parameter, taking ownership of `init`. */
  protected param(name: string, init: tf.Tensor): tf.Variable {
    const v = tf.variable(init, true);
    init.dispose();
    this.#params.push([name, v]);
    return v;
  }

  /** Registers a constant tensor (not trained, not saved), such as a sinusoidal table. */
  protected buffer<T extends tf.Tensor>(name: string, t: T): T {
    tf.keep(t);
    this.#buffers.push([name, t]);
    return t;
  }

  protected module<M extends Module>(name: string, m: M): M {
    this.#children.push([name, m]);
    if (this.#seeds) m.shareDropoutSeeds(this.#seeds);
    if (this.#aux) m.shareAuxLosses(this.#aux);
    return m;
  }

  /** Registers a list of modules as name.0, name.1, … */
  protected modules<M extends Module>(name: string, list: M[]): M[] {
    list.forEach((m, i) => this.module(`${name}.${i}`, m));
    return list;
  }

  /**
   * One module applied `times` times with the same weights (ALBERT, the Universal Transformer): registered
   * once, as name.0, so its parameters are stored and trained once; a one-element list, as modules()
   * gives, so its name reads the same. The forward applies it; attention maps and the KV cache keep an
   * entry per application.
   */
  protected shared<M extends Module>(name: string, m: M, times: number): M[] {
    this.module(`${name}.0`, m);
    this.#applied.set(m, times);
    return [m];
  }

  /**
   * The modules below this one in the order they were built, with their dotted names and how many times
   * the forward applies each (more than once below a shared repeat).
   */
  namedModules(prefix = "", times = 1): { readonly name: string; readonly module: Module; readonly times: number }[] {
    const out: { name: string; module: Module; times: number }[] = [];
    for (const [n, child] of this.#children) {
      const applied = times * (this.#applied.get(child) ?? 1);
      out.push({ name: prefix + n, module: child, times: applied }, ...child.namedModules(`${prefix}${n}.`, applied));
    }
    return out;
  }

  /**
   * Calls fn on this module and then on every module below it, depth first in the order they were
   * registered (PyTorch's Module.apply): the order the layers were built, which initialization draws in.
   */
  apply(fn: (module: Module) => void): this {
    fn(this);
    for (const [, child] of this.#children) child.apply(fn);
    return this;
  }

  /**
   * Gives this module and every module below it the model's dropout seeds. A model shares its own when it
   * registers a layer, so a layer built before it joined the model gets them then.
   */
  shareDropoutSeeds(seeds: DropoutSeeds): void {
    this.#seeds = seeds;
    for (const [, child] of this.#children) child.shareDropoutSeeds(seeds);
  }

  /** Gives this module and every module below it the model's auxiliary losses, as shareDropoutSeeds. */
  shareAuxLosses(aux: AuxLosses): void {
    this.#aux = aux;
    for (const [, child] of this.#children) child.shareAuxLosses(aux);
  }

  /**
   * Adds a term to the model's training loss for this forward (a mixture of experts' load balancing),
   * which the model's forward returns as its aux loss; an error for a module that is not part of a model.
   */
  protected addAuxLoss(loss: tf.Scalar): void {
    if (!this.#aux) throw new Error(`${this.constructor.name} adds an auxiliary loss but belongs to no model, which sums them`);
    this.#aux.add(loss);
  }

  /** The next of the model's dropout seeds; an error for a module that is not part of a model. */
  protected nextDropoutSeed(): number {
    if (!this.#seeds) throw new Error(`${this.constructor.name} draws dropout masks but belongs to no model, which owns their seeds`);
    return this.#seeds.next();
  }

  /** Every parameter with its dotted name, in the order the layers were built. */
  namedParameters(prefix = ""): [string, tf.Variable][] {
    const out: [string, tf.Variable][] = this.#params.map(([n, v]) => [prefix + n, v]);
    for (const [n, child] of this.#children) out.push(...child.namedParameters(`${prefix}${n}.`));
    return out;
  }

  /** Every buffer (a constant tensor, such as a rotary table) with its dotted name, as namedParameters. */
  namedBuffers(prefix = ""): [string, tf.Tensor][] {
    const out: [string, tf.Tensor][] = this.#buffers.map(([n, t]) => [prefix + n, t]);
    for (const [n, child] of this.#children) out.push(...child.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  parameterCount(): number {
    return this.namedParameters().reduce((n, [, v]) => n + v.size, 0);
  }

  get training(): boolean {
    return this.#training;
  }

  /** Training mode turns dropout on; evaluation mode turns it off. Applies to all children. */
  train(on = true): this {
    this.#training = on;
    for (const [, child] of this.#children) child.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  dispose(): void {
    for (const [, v] of this.#params) v.dispose();
    for (const [, t] of this.#buffers) t.dispose();
    for (const [, child] of this.#children) child.dispose();
  }
}

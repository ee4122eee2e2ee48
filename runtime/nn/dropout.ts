// nn.Dropout: in training, each entry zeroed with probability p and the rest scaled by 1/(1-p)
// (runtime/ops/dropout.ts); in evaluation, nothing. Each mask's seed is the next of the model's dropout
// seeds. Fused ops with dropout inside (attention weights) take the module and draw through it.
import { dropout } from "../ops/dropout.js";
import { Module } from "./module.js";
import type { tf } from "./tf.js";

export class Dropout extends Module {
  constructor(readonly p: number) {
    super();
  }

  /** Whether a forward now drops anything: in training, with p > 0. */
  get active(): boolean {
    return this.training && this.p > 0;
  }

  /** The seed of the next mask, for an op that applies this dropout inside itself. */
  nextSeed(): number {
    return this.nextDropoutSeed();
  }

  forward<T extends tf.Tensor>(x: T): T {
    return this.active ? dropout(x, this.p, this.nextSeed()) : x;
  }
}

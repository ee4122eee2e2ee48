// The seeds of a model's dropout masks: one PRNG the model owns, drawn in the order its forward meets the
// dropout sites, whose state the trainer saves with every checkpoint and restores on --resume, so a
// resumed run drops exactly what an uninterrupted one would.
import { Prng, type PrngState } from "../random.js";

export class DropoutSeeds {
  #rng: Prng;

  constructor(seed = 0) {
    this.#rng = new Prng(seed);
  }

  /** The seed of the next mask. */
  next(): number {
    return this.#rng.nextUint32();
  }

  /** Starts the sequence again from `seed` (a run's seed, mixed so it differs from the batches'). */
  reseed(seed: number): void {
    this.#rng = new Prng(seed);
  }

  get state(): PrngState {
    return this.#rng.state;
  }

  set state(state: PrngState) {
    this.#rng.state = state;
  }
}

// Weight initialization as a step of its own: a generated model builds its layers (parameters start at
// zero, or one for gains), then visits them in the order they were built and has this initializer draw
// each weight from babygpt's seeded PRNG, so a model built twice with one seed is identical on every
// backend. Which distribution each layer gets is the generated file's init function.
import { Prng } from "../random.js";
import { tf } from "./tf.js";

export class Initializer {
  readonly #rng: Prng;

  constructor(seed = 1337) {
    this.#rng = new Prng(seed);
  }

  /** Fills p with draws from N(0, std²), in order. */
  normal(p: tf.Variable, std: number): void {
    this.#fill(p, (values) => this.#rng.fillNormal(values, std));
  }

  /** Fills p with draws from U(-bound, bound), in order. */
  uniform(p: tf.Variable, bound: number): void {
    this.#fill(p, (values) => this.#rng.fillUniform(values, bound));
  }

  /** Sets every entry of p to `value`; draws nothing. */
  constant(p: tf.Variable, value: number): void {
    tf.tidy(() => p.assign(tf.fill(p.shape, value, "float32")));
  }

  #fill(p: tf.Variable, draw: (values: Float32Array) => void): void {
    const values = new Float32Array(p.size);
    draw(values);
    tf.tidy(() => p.assign(tf.tensor(values, p.shape, "float32")));
  }
}

// Weight initialization, seeded from our PRNG so a model built twice with one seed is identical on every
// backend. The style follows the spec's model.init.
import { Prng } from "../random.js";
import { tf } from "./tf.js";

export type InitStyle = "torch" | "gpt";

let rng = new Prng(1337);
let style: InitStyle = "torch";

/** Called by a model's constructor before it builds its layers. */
export function beginInit(seed: number, initStyle: InitStyle): void {
  rng = new Prng(seed);
  style = initStyle;
}

function fill(shape: readonly number[], draw: () => number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = draw();
  return tf.tensor(values, [...shape], "float32");
}

export function normal(shape: readonly number[], std: number): tf.Tensor {
  return fill(shape, () => rng.nextNormal() * std);
}

export function uniform(shape: readonly number[], bound: number): tf.Tensor {
  return fill(shape, () => (rng.nextFloat() * 2 - 1) * bound);
}

/** Embedding tables: N(0, 1) as PyTorch's nn.Embedding, or N(0, 0.02) as GPT-2. */
export function embeddingInit(shape: readonly number[]): tf.Tensor {
  return normal(shape, style === "gpt" ? 0.02 : 1);
}

/** Linear weights (out, in): U(±1/sqrt(in)) as PyTorch's nn.Linear, or N(0, 0.02) as GPT-2. */
export function linearWeightInit(nOut: number, nIn: number): tf.Tensor {
  return style === "gpt" ? normal([nOut, nIn], 0.02) : uniform([nOut, nIn], 1 / Math.sqrt(nIn));
}

/** Linear biases: U(±1/sqrt(in)) as PyTorch, or zeros as GPT-2. */
export function linearBiasInit(nOut: number, nIn: number): tf.Tensor {
  return style === "gpt" ? tf.zeros([nOut]) : uniform([nOut], 1 / Math.sqrt(nIn));
}

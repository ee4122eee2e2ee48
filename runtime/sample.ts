// Autoregressive sampling: feed the last block_size tokens, take the logits at the last position, scale
// by 1/temperature, keep the top k, draw from the softmax with our seeded PRNG, append, repeat.
import type { Tokenizer } from "./data/tokenizer.js";
import type { LanguageModel } from "./nn/language-model.js";
import { tf } from "./nn/tf.js";
import type { Prng } from "./random.js";

export interface SampleOptions {
  readonly tokens: number;
  /** 0 picks the most likely token every time. */
  readonly temperature: number;
  readonly topK?: number | undefined;
  readonly rng: Prng;
}

/** Picks the next token from logits (a plain array, so the choice is identical on every backend). */
export function pickToken(logits: Float32Array, temperature: number, topK: number | undefined, rng: Prng): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  if (temperature === 0) return best;
  let order = Array.from(logits.keys());
  if (topK !== undefined && topK < logits.length) order = order.sort((a, b) => logits[b]! - logits[a]! || a - b).slice(0, topK);
  const max = logits[best]!;
  const weights = order.map((i) => Math.exp((logits[i]! - max) / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng.nextFloat() * total;
  for (let j = 0; j < order.length; j++) {
    u -= weights[j]!;
    if (u < 0) return order[j]!;
  }
  return order[order.length - 1]!;
}

/**
 * Generates `tokens` new tokens after `context`, calling onToken for each as it is drawn. The logits are
 * read with `await data()`, which a GPU backend needs (webgpu has no synchronous read in Node).
 */
export async function generate(model: LanguageModel, context: readonly number[], options: SampleOptions, onToken?: (id: number) => void): Promise<number[]> {
  const ids = [...context];
  for (let n = 0; n < options.tokens; n++) {
    const window = ids.slice(-model.blockSize);
    const T = window.length;
    const last = tf.tidy(() => {
      const idx = tf.tensor2d(window, [1, T], "int32");
      const { logits } = model.forward(idx);
      return tf.reshape(tf.slice(logits, [0, T - 1, 0], [1, 1, logits.shape[2]]), [logits.shape[2]]);
    });
    const values = (await last.data()) as Float32Array;
    last.dispose();
    const next = pickToken(values, options.temperature, options.topK, options.rng);
    ids.push(next);
    onToken?.(next);
  }
  return ids.slice(context.length);
}

/**
 * Generates and writes text as it is drawn. Each token's text comes from the tokenizer's stream decoder,
 * so the work per token does not grow with the output (decoding the whole output again for every token
 * did), and a character that a BPE token leaves unfinished is written when the next token completes it.
 */
export async function streamText(model: LanguageModel, tokenizer: Tokenizer, context: readonly number[], options: SampleOptions, write: (text: string) => void): Promise<number[]> {
  const decoder = tokenizer.decoder();
  const ids = await generate(model, context, options, (id) => {
    const text = decoder.push(id);
    if (text) write(text);
  });
  const rest = decoder.end();
  if (rest) write(rest);
  return ids;
}

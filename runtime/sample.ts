// Autoregressive sampling: feed the last block_size tokens, take the logits at the last position, scale
// by 1/temperature, keep the top k (and the nucleus of top-p), draw from the softmax with our seeded PRNG,
// append, repeat. With the KV cache (the default) each step feeds only the new token: the attention
// layers keep the keys and values of the positions before it. When the context passes block_size, the
// window slides as without the cache (the last block_size tokens), each step feeding the whole window.
import type { Tokenizer } from "./data/tokenizer.js";
import { KvCache } from "./nn/kv-cache.js";
import type { LanguageModel } from "./nn/language-model.js";
import { tf } from "./nn/tf.js";
import type { Prng } from "./random.js";

export interface SampleOptions {
  readonly tokens: number;
  /** 0 picks the most likely token every time. */
  readonly temperature: number;
  readonly topK?: number | undefined;
  /** Nucleus sampling: draw among the most likely tokens whose probabilities sum to at least topP. */
  readonly topP?: number | undefined;
  readonly rng: Prng;
  /** False recomputes the whole window for every token, as before the KV cache. Default true. */
  readonly cache?: boolean;
}

/** Picks the next token from logits (a plain array, so the choice is identical on every backend). */
export function pickToken(logits: Float32Array, temperature: number, topK: number | undefined, rng: Prng, topP?: number): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  if (temperature === 0) return best;
  let order = Array.from(logits.keys());
  const byLogit = (a: number, b: number): number => logits[b]! - logits[a]! || a - b;
  if (topK !== undefined && topK < logits.length) order = order.sort(byLogit).slice(0, topK);
  const max = logits[best]!;
  let weights = order.map((i) => Math.exp((logits[i]! - max) / temperature));
  if (topP !== undefined && topP < 1) {
    // The smallest set of most likely tokens whose probability reaches topP (the first always counts).
    const ranked = order.map((id, j) => ({ id, w: weights[j]! })).sort((a, b) => b.w - a.w || a.id - b.id);
    const total = ranked.reduce((s, r) => s + r.w, 0);
    let kept = 0;
    let mass = 0;
    while (kept < ranked.length && (kept === 0 || mass < topP * total)) mass += ranked[kept++]!.w;
    order = ranked.slice(0, kept).map((r) => r.id);
    weights = ranked.slice(0, kept).map((r) => r.w);
  }
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng.nextFloat() * total;
  for (let j = 0; j < order.length; j++) {
    u -= weights[j]!;
    if (u < 0) return order[j]!;
  }
  return order[order.length - 1]!;
}

/**
 * The logits after each next token's context, one call per token: with a cache, only the tokens the
 * cache has not seen go through the model. `step(ids)` gives the logits at the last position of `ids`.
 */
export function nextLogits(model: LanguageModel, useCache: boolean): { step: (ids: readonly number[]) => Promise<Float32Array>; dispose: () => void } {
  const cache = useCache ? new KvCache() : undefined;
  // Read with `await data()`, which a GPU backend needs (webgpu has no synchronous read in Node).
  const run = async (tokens: readonly number[], kv: KvCache | undefined): Promise<Float32Array> => {
    const T = tokens.length;
    const last = tf.tidy(() => {
      const idx = tf.tensor2d(tokens as number[], [1, T], "int32");
      const { logits } = model.forward(idx, undefined, kv);
      return tf.reshape(tf.slice(logits, [0, T - 1, 0], [1, 1, logits.shape[2]]), [logits.shape[2]]);
    });
    kv?.advance(T);
    const values = (await last.data()) as Float32Array;
    last.dispose();
    return values;
  };
  return {
    step(ids) {
      const start = Math.max(0, ids.length - model.blockSize);
      if (!cache) return run(ids.slice(start), undefined);
      if (start > 0) {
        // Past block_size the window moves with every token, and every position in it with the window:
        // a cache fed this window would be stale at the next step. The window runs without one, as
        // --no-cache does, rather than filling a cache only to throw it away.
        if (cache.past > 0) cache.clear();
        return run(ids.slice(start), undefined);
      }
      return run(ids.slice(cache.past), cache);
    },
    dispose: () => cache?.dispose(),
  };
}

/** Generates `tokens` new tokens after `context`, calling onToken for each as it is drawn. */
export async function generate(model: LanguageModel, context: readonly number[], options: SampleOptions, onToken?: (id: number) => void): Promise<number[]> {
  const ids = [...context];
  const logits = nextLogits(model, options.cache ?? true);
  try {
    for (let n = 0; n < options.tokens; n++) {
      const next = pickToken(await logits.step(ids), options.temperature, options.topK, options.rng, options.topP);
      ids.push(next);
      onToken?.(next);
    }
  } finally {
    logits.dispose();
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

// Autoregressive sampling: feed the last block_size tokens, take the logits at the last position, scale
// by 1/temperature, keep the top k (and the nucleus of top-p), draw from the softmax with our seeded PRNG,
// append, repeat. With the KV cache (the default) each step feeds only the new token: the attention
// layers keep the keys and values of the positions before it. When the context passes block_size, the
// window slides as without the cache (the last block_size tokens), each step feeding the whole window.
//
// Two ways run a step, with the same positions fed and the same draws. Where the active backend runs
// decode plans (runtime/sampling/backends.ts: native does) and the caller passes the model's plan
// (compiler's decodePlan), the backend runs it: one call per token over buffers made once, the draw
// included. Otherwise, or when the plan cannot follow the model, the generated forward runs, and the
// token is drawn from its logits by the backend's pick (native's is the same code as its decoder's) or by
// pickToken here. A batch of sequences (generateBatch) advances together, sequence i drawing from its own
// generator, which gives it the tokens it gets alone.
import type { DecodePlan, NoPlan } from "../compiler/index.js";
import type { Tokenizer } from "./data/tokenizer.js";
import { KvCache } from "./nn/kv-cache.js";
import type { LanguageModel } from "./nn/language-model.js";
import { tf } from "./nn/tf.js";
import type { Prng } from "./random.js";
import { backendSampling, type DecodeProfile, type PlanDecoder, type TokenChoice } from "./sampling/backends.js";

export interface SampleOptions extends TokenChoice {
  readonly tokens: number;
  readonly rng: Prng;
  /** False recomputes the whole window for every token, as before the KV cache. Default true. */
  readonly cache?: boolean;
  /** The model's decode plan (compiler's decodePlan of its IR), which the active backend runs where it can. */
  readonly plan?: DecodePlan | NoPlan | undefined;
  /** "forward": always the generated forward, even where the backend could run the plan. Default "auto". */
  readonly path?: "auto" | "forward";
  /** Called at the end with where the plan decoder's time went (the benchmark's profile); plan path only. */
  readonly onProfile?: (profile: DecodeProfile) => void;
}

/** A batch: sequence i draws from rngs[i]. */
export interface BatchOptions extends Omit<SampleOptions, "rng"> {
  readonly rngs: readonly Prng[];
}

/** How a generation ran: the backend's decoder of the plan, or the generated forward (and why). */
export interface DecodePath {
  readonly kind: "plan" | "forward";
  readonly why?: string;
}

/** Picks the next token from logits (a plain array, so the choice is identical on every backend). */
export function pickToken(logits: Float32Array, temperature: number, topK: number | undefined, rng: Prng, topP?: number): number {
  return chooseToken(logits, temperature, topK, topP, () => rng.nextFloat());
}

/** pickToken with its one uniform draw given (drawn only at a temperature above 0). */
function chooseToken(logits: Float32Array, temperature: number, topK: number | undefined, topP: number | undefined, uniform: () => number): number {
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
  let u = uniform() * total;
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
  const forward = forwardLogits(model, 1);
  let past = 0;
  return {
    async step(ids) {
      const feed = nextFeed(ids.length, model.blockSize, useCache, past);
      past = feed.keep ? ids.length : 0;
      return forward.step(Int32Array.from(ids.slice(feed.start)), ids.length - feed.start, feed.past, feed.keep);
    },
    dispose: () => forward.dispose(),
  };
}

/**
 * Which positions the next step feeds, for a context of `length` tokens of which a cache holds `cached`:
 * the new ones after the cache's (kept in it), or, without a cache or past block_size, the whole window
 * from position 0. Past block_size the window moves with every token, and every position in it with the
 * window: a cache fed this window would be stale at the next step, so the window runs as without one.
 */
export function nextFeed(length: number, blockSize: number, useCache: boolean, cached: number): { start: number; past: number; keep: boolean } {
  const start = Math.max(0, length - blockSize);
  if (!useCache || start > 0) return { start, past: 0, keep: false };
  return { start: cached, past: cached, keep: true };
}

/**
 * The generated forward for a batch, with its KV cache: `logits` runs it on tokens at positions past…
 * (keeping them in the cache or not) and gives each sequence's last-position logits (batch × vocab) as a
 * tensor the caller disposes; the benchmark's profile times that apart from the read.
 */
export function forwardStep(model: LanguageModel, batch: number): { logits: (tokens: Int32Array, T: number, past: number, keep: boolean) => tf.Tensor2D; dispose: () => void } {
  const cache = new KvCache();
  return {
    logits(tokens, T, past, keep) {
      if (!keep || past === 0) cache.clear();
      const kv = keep ? cache : undefined;
      const last = tf.tidy(() => {
        const idx = tf.tensor2d(tokens, [batch, T], "int32");
        const { logits } = model.forward(idx, undefined, kv);
        const V = logits.shape[2];
        return tf.reshape(tf.slice(logits, [0, T - 1, 0], [batch, 1, V]), [batch, V]) as tf.Tensor2D;
      });
      kv?.advance(T);
      return last;
    },
    dispose: () => cache.dispose(),
  };
}

/** forwardStep, read: each sequence's last-position logits as numbers. */
function forwardLogits(model: LanguageModel, batch: number): { step: (tokens: Int32Array, T: number, past: number, keep: boolean) => Promise<Float32Array>; dispose: () => void } {
  const forward = forwardStep(model, batch);
  return {
    async step(tokens, T, past, keep) {
      const last = forward.logits(tokens, T, past, keep);
      // Read with `await data()`, which a GPU backend needs (webgpu has no synchronous read in Node).
      const values = (await last.data()) as Float32Array;
      last.dispose();
      return values;
    },
    dispose: () => forward.dispose(),
  };
}

/** One step of a batch: feeds tokens at positions past…, keeping them in the cache or not; the next tokens. */
interface BatchDecoder {
  step(tokens: Int32Array, T: number, past: number, keep: boolean, uniforms: Float64Array): Promise<Int32Array> | Int32Array;
  dispose(): void;
}

/** The backend's decoder of the plan, or why the generated forward runs instead. */
function planDecoder(model: LanguageModel, options: BatchOptions, batch: number): PlanDecoder | string {
  const plan = options.plan;
  if (options.path === "forward") return "asked for";
  if (!plan) return "no decode plan was given";
  if ("unsupported" in plan) return `the decode plan cannot follow this model: ${plan.unsupported}`;
  if (model.training) return "the model is in training mode (its dropout is the generated forward's)";
  const backend = tf.getBackend();
  const sampling = backendSampling(backend);
  if (!sampling) return `the ${backend} backend runs no decode plans`;
  const decoder = sampling.decoder(plan, model, { batch, choice: options, profile: options.onProfile !== undefined });
  return "unsupported" in decoder ? decoder.unsupported : decoder;
}

function batchDecoder(model: LanguageModel, options: BatchOptions, batch: number): { decoder: BatchDecoder; path: DecodePath } {
  const plan = planDecoder(model, options, batch);
  if (typeof plan !== "string") {
    const dispose = (): void => {
      const profile = plan.profile();
      if (profile) options.onProfile?.(profile);
      plan.dispose();
    };
    return { decoder: { step: (tokens, T, past, _keep, uniforms) => plan.step(tokens, T, past, uniforms), dispose }, path: { kind: "plan" } };
  }
  const forward = forwardLogits(model, batch);
  const pick = backendSampling(tf.getBackend())?.pick;
  const decoder: BatchDecoder = {
    async step(tokens, T, past, keep, uniforms) {
      const logits = await forward.step(tokens, T, past, keep);
      const V = logits.length / batch;
      if (pick) return pick(logits, V, options, uniforms);
      return Int32Array.from({ length: batch }, (_, b) => chooseToken(logits.subarray(b * V, (b + 1) * V), options.temperature, options.topK, options.topP, () => uniforms[b]!));
    },
    dispose: () => forward.dispose(),
  };
  return { decoder, path: { kind: "forward", why: plan } };
}

/**
 * Generates `tokens` new tokens after `context` for every generator of `rngs`, as one batch: sequence i
 * is what generate gives with rngs[i] alone. onToken(i, id) is called for each token as it is drawn.
 */
export async function generateBatch(
  model: LanguageModel,
  context: readonly number[],
  options: BatchOptions,
  onToken?: (sequence: number, id: number) => void,
): Promise<{ readonly sequences: number[][]; readonly path: DecodePath }> {
  const B = options.rngs.length;
  if (B < 1) throw new RangeError("generateBatch: no generators");
  if (context.length < 1) throw new RangeError("generateBatch: an empty context");
  const ids = Array.from({ length: B }, () => [...context]);
  const { decoder, path } = batchDecoder(model, options, B);
  const useCache = options.cache ?? true;
  const uniforms = new Float64Array(B);
  let cached = 0;
  try {
    for (let n = 0; n < options.tokens; n++) {
      const length = ids[0]!.length;
      const feed = nextFeed(length, model.blockSize, useCache, cached);
      const T = length - feed.start;
      const tokens = new Int32Array(B * T);
      ids.forEach((seq, b) => tokens.set(seq.slice(feed.start), b * T));
      // pickToken draws one uniform per token, and none at temperature 0.
      for (let b = 0; b < B; b++) uniforms[b] = options.temperature === 0 ? 0 : options.rngs[b]!.nextFloat();
      const next = await decoder.step(tokens, T, feed.past, feed.keep, uniforms);
      cached = feed.keep ? length : 0;
      ids.forEach((seq, b) => {
        seq.push(next[b]!);
        onToken?.(b, next[b]!);
      });
    }
  } finally {
    decoder.dispose();
  }
  return { sequences: ids.map((seq) => seq.slice(context.length)), path };
}

/** Generates `tokens` new tokens after `context`, calling onToken for each as it is drawn. */
export async function generate(model: LanguageModel, context: readonly number[], options: SampleOptions, onToken?: (id: number) => void): Promise<number[]> {
  const { rng, ...rest } = options;
  const { sequences } = await generateBatch(model, context, { ...rest, rngs: [rng] }, onToken && ((_, id) => onToken(id)));
  return sequences[0]!;
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

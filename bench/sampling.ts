// The benchmark's one sampling protocol, which both sides run: ours (bench/child.ts, with the KV cache and
// without it, in one process) and PyTorch (bench/reference/bench_torch.py, the generated module's
// `generate`). Its values live in bench/sampling.json, which both read for their defaults; bench.ts
// passes them to both as arguments and records them in the results file.
import { readFileSync } from "node:fs";

export interface SamplingProtocol {
  /** Prompt length: token ids 0, 1, … (mod the vocabulary). */
  readonly promptTokens: number;
  /**
   * New tokens, one generation timed whole. More than the bigram's and the baby GPT's block_size (8, 64),
   * so their context window slides and the cache is rebuilt; the lecture GPT's is 256.
   */
  readonly newTokens: number;
  /** One untimed generation of this many tokens from the same prompt before the timed ones, per path. */
  readonly warmupTokens: number;
  /**
   * Timed generations per path, one after another (ours: the paths in turn, so that a machine whose load
   * drifts weighs on each alike); the median is the figure. Ours takes more rounds where a path's timed
   * generations total under 0.2 s (bench/sample-runs.ts), so that a sub-millisecond one is not the timer's.
   */
  readonly repeats: number;
  /**
   * 1, and no top-k: the generated PyTorch module's `generate` (as nanoGPT's) samples from the whole
   * softmax at temperature 1 and takes no other options, so ours samples the same way.
   */
  readonly temperature: 1;
  readonly topK: null;
  /**
   * Ours also generates this many samples as one batch (`--num-samples`), against the one sample of the
   * same run; PyTorch's generate is not timed batched.
   */
  readonly batch: number;
}

function readProtocol(): SamplingProtocol {
  const path = new URL("./sampling.json", import.meta.url);
  const p = JSON.parse(readFileSync(path, "utf8")) as Partial<Record<keyof SamplingProtocol, unknown>>;
  const count = (v: unknown, min: number): boolean => Number.isInteger(v) && (v as number) >= min;
  if (!count(p.promptTokens, 1) || !count(p.newTokens, 1) || !count(p.warmupTokens, 0) || !count(p.repeats, 1) || !count(p.batch, 1) || p.temperature !== 1 || p.topK !== null) {
    throw new Error(`${path.pathname}: expected promptTokens >= 1, newTokens >= 1, warmupTokens >= 0, repeats >= 1, batch >= 1, temperature 1, topK null`);
  }
  const n = (v: unknown): number => v as number;
  return { promptTokens: n(p.promptTokens), newTokens: n(p.newTokens), warmupTokens: n(p.warmupTokens), repeats: n(p.repeats), temperature: 1, topK: null, batch: n(p.batch) };
}

export const SAMPLING: SamplingProtocol = readProtocol();

/** One of our timed generations (the median of the protocol's repeats), as the results file records it. */
export interface OurSampling {
  /** True: the KV cache (`generate`'s default); false: the whole window every token (`cache: false`). */
  readonly cached: boolean;
  /**
   * What ran the model: the backend's decode plan (`generate`'s default where the backend runs plans),
   * or the generated forward (`path: "forward"`, how every generation ran before the plan). Absent in
   * results from before the plan: the generated forward.
   */
  readonly path?: "plan" | "forward";
  /** Samples generated as one batch (absent: 1); tokensPerSec counts every sample's tokens. */
  readonly batch?: number;
  readonly promptTokens: number;
  /** The tokens the timed generation produced per sample (the protocol's count unless it failed). */
  readonly newTokens: number;
  readonly seconds: number;
  readonly tokensPerSec: number;
  /** Timed generations the median is of. */
  readonly repeats?: number;
}

/** PyTorch's timed generation (bench_torch.py writes snake_case, as the rest of its report). */
export interface TorchSampling {
  /** Always false: the generated PyTorch module (like nanoGPT's) has no KV cache. */
  readonly cached: boolean;
  readonly prompt_tokens: number;
  readonly new_tokens: number;
  readonly seconds: number;
  readonly tokens_per_sec: number;
  /** Timed generations the median is of (absent in results from before the repeats: one). */
  readonly repeats?: number;
}

/** The arguments that pass the protocol to bench/child.ts and to bench_torch.py (same flag names). */
export function samplingArgs(p: SamplingProtocol): string[] {
  return ["--prompt-tokens", String(p.promptTokens), "--sample-tokens", String(p.newTokens), "--sample-warmup", String(p.warmupTokens), "--sample-repeats", String(p.repeats), "--temperature", String(p.temperature)];
}

/**
 * Where a sampled token's time goes (bench/sample-runs.ts's profileSampling), in microseconds per token,
 * by the protocol with one sample and the KV cache.
 */
export interface SampleProfile {
  readonly newTokens: number;
  /** The generated forward with pickToken in JavaScript: how every generation ran before the decode plan. */
  readonly before: {
    readonly total: number;
    /** The forward's kernels, as tf.profile times them. */
    readonly kernels: number;
    /** The rest of the forward: tensors made and disposed, kernels dispatched, scopes. */
    readonly engine: number;
    /** `await data()` of the logits. */
    readonly read: number;
    /** pickToken. */
    readonly draw: number;
    /** The loop around them. */
    readonly loop: number;
  };
  /** The decode plan on the addon's decoder. */
  readonly after: {
    readonly total: number;
    /** By kind of plan step, as the decoder times them. */
    readonly steps: Readonly<Record<string, number>>;
    /** The draw of the token, in the decoder. */
    readonly draw: number;
    /** The rest: the loop in JavaScript, the calls into the addon, making the decoder. */
    readonly call: number;
  };
}

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
  /** One untimed generation of this many tokens from the same prompt before the timed one, per path. */
  readonly warmupTokens: number;
  /**
   * 1, and no top-k: the generated PyTorch module's `generate` (as nanoGPT's) samples from the whole
   * softmax at temperature 1 and takes no other options, so ours samples the same way.
   */
  readonly temperature: 1;
  readonly topK: null;
}

function readProtocol(): SamplingProtocol {
  const path = new URL("./sampling.json", import.meta.url);
  const p = JSON.parse(readFileSync(path, "utf8")) as Partial<Record<keyof SamplingProtocol, unknown>>;
  const count = (v: unknown, min: number): boolean => Number.isInteger(v) && (v as number) >= min;
  if (!count(p.promptTokens, 1) || !count(p.newTokens, 1) || !count(p.warmupTokens, 0) || p.temperature !== 1 || p.topK !== null) {
    throw new Error(`${path.pathname}: expected promptTokens >= 1, newTokens >= 1, warmupTokens >= 0, temperature 1, topK null`);
  }
  return { promptTokens: p.promptTokens as number, newTokens: p.newTokens as number, warmupTokens: p.warmupTokens as number, temperature: 1, topK: null };
}

export const SAMPLING: SamplingProtocol = readProtocol();

/** One timed generation of ours, as the results file records it. */
export interface OurSampling {
  /** True: the KV cache (`generate`'s default); false: the whole window every token (`cache: false`). */
  readonly cached: boolean;
  readonly promptTokens: number;
  /** The tokens the timed generation produced (the protocol's count unless it failed). */
  readonly newTokens: number;
  readonly seconds: number;
  readonly tokensPerSec: number;
}

/** PyTorch's timed generation (bench_torch.py writes snake_case, as the rest of its report). */
export interface TorchSampling {
  /** Always false: the generated PyTorch module (like nanoGPT's) has no KV cache. */
  readonly cached: boolean;
  readonly prompt_tokens: number;
  readonly new_tokens: number;
  readonly seconds: number;
  readonly tokens_per_sec: number;
}

/** The arguments that pass the protocol to bench/child.ts and to bench_torch.py (same flag names). */
export function samplingArgs(p: SamplingProtocol): string[] {
  return ["--prompt-tokens", String(p.promptTokens), "--sample-tokens", String(p.newTokens), "--sample-warmup", String(p.warmupTokens), "--temperature", String(p.temperature)];
}

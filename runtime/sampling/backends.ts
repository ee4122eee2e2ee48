// What a backend may add to sampling: a decoder that runs a model's decode plan (compiler/serialize/decode)
// in place of its generated forward, and the draw of next tokens from logits. A backend registers them
// under its name (runtime/native/decode.ts does, for native), as it registers its kernels; sampling asks
// the active backend for them, and runs the generated forward and runtime/sample.ts's pickToken where it
// has none. No Node imports: the playground bundles sampling.
import type { DecodePlan } from "../../compiler/index.js";
import type { LanguageModel } from "../nn/language-model.js";

/** How the next token is drawn from the logits (runtime/sample.ts's pickToken). */
export interface TokenChoice {
  /** 0 picks the most likely token every time. */
  readonly temperature: number;
  readonly topK?: number | undefined;
  readonly topP?: number | undefined;
}

/** A plan run for a batch of sequences that advance together. */
export interface PlanDecoder {
  /**
   * Feeds `tokens` (the batch's sequences one after another, T each) at positions past … past+T-1 (past 0
   * starts the sequences afresh) and returns each sequence's next token, drawn with its uniform in [0, 1).
   */
  step(tokens: Int32Array, T: number, past: number, uniforms: Float64Array): Int32Array;
  /** The last step's logits (batch × vocab), for decoders made with `logits`. */
  readonly logits: Float32Array | undefined;
  /** Time per kind of step, for decoders made with `profile`. */
  profile(): DecodeProfile | undefined;
  dispose(): void;
}

/** Where a decoder's time went since it was made: nanoseconds per kind of plan step, the draws, the steps. */
export interface DecodeProfile {
  readonly byKind: Readonly<Record<string, number>>;
  /** Drawing the tokens from the logits. */
  readonly sampling: number;
  /** The whole steps, inside the backend. */
  readonly total: number;
  readonly steps: number;
}

export interface DecoderOptions {
  /** The most sequences one step feeds. */
  readonly batch: number;
  readonly choice: TokenChoice;
  readonly profile?: boolean;
  readonly logits?: boolean;
}

export interface BackendSampling {
  /** A decoder of `plan` over `model`'s weights, or why this backend cannot run it for this model. */
  decoder(plan: DecodePlan, model: LanguageModel, options: DecoderOptions): PlanDecoder | { readonly unsupported: string };
  /** The next token of each row of logits (rows × vocab), drawn with its uniform: pickToken's choice. */
  pick(logits: Float32Array, vocab: number, choice: TokenChoice, uniforms: Float64Array): Int32Array;
}

const registry = new Map<string, BackendSampling>();

export function registerBackendSampling(backend: string, sampling: BackendSampling): void {
  registry.set(backend, sampling);
}

export function backendSampling(backend: string): BackendSampling | undefined {
  return registry.get(backend);
}

// A byte-level BPE learned on the user's corpus (runtime/data/bpe-train.ts): ids 0–255 are the bytes, each
// merge adds the next id, and <|endoftext|> comes last. Its state is the merges (pairs of ids, in order);
// encoding and decoding go through js-tiktoken with the ranks those merges define, as GPT-2's do, and the
// bulk encoding of a corpus through tiktoken's WASM build (runtime/data/prepare-worker.ts).
import { Tiktoken } from "js-tiktoken/lite";
import { UserError } from "../errors.js";
import { END_OF_TEXT, GPT2_PATTERN, rankString } from "./byte-level.js";

export interface BpeState {
  readonly kind: "bpe";
  /** The merges in order, flattened: merge i joins ids merges[2i] and merges[2i+1] into id 256 + i. */
  readonly merges: readonly number[];
}

/** Each id's bytes (ids 0–255: the byte; 256 + i: merge i's two parts); the end-of-text id is not among them. */
export function bpeTokenBytes(merges: readonly number[]): Uint8Array[] {
  const bytes: Uint8Array[] = [];
  for (let b = 0; b < 256; b++) bytes.push(Uint8Array.of(b));
  for (let i = 0; i < merges.length; i += 2) {
    const a = bytes[merges[i]!];
    const b = bytes[merges[i + 1]!];
    if (a === undefined || b === undefined) throw new UserError(`merge ${i / 2} of the BPE tokenizer joins an id that does not exist yet (${merges[i]}, ${merges[i + 1]})`);
    const joined = new Uint8Array(a.length + b.length);
    joined.set(a);
    joined.set(b, a.length);
    bytes.push(joined);
  }
  return bytes;
}

/** What tiktoken and js-tiktoken need to encode with a learned BPE. */
export function bpeRanks(merges: readonly number[]): { bpe_ranks: string; special_tokens: Record<string, number>; pat_str: string } {
  const tokens = bpeTokenBytes(merges);
  return { bpe_ranks: rankString(tokens), special_tokens: { [END_OF_TEXT]: tokens.length }, pat_str: GPT2_PATTERN };
}

export const bpeVocabSize = (merges: readonly number[]): number => 256 + merges.length / 2 + 1;

export interface BpeCodec {
  readonly vocabSize: number;
  readonly endOfText: number;
  readonly tokenBytes: readonly Uint8Array[];
  /** The text's ids; <|endoftext|> in the text is the end-of-text token where `special` allows it. */
  encode(text: string, special: boolean): number[];
}

export function bpeCodec(state: BpeState): BpeCodec {
  const tokenBytes = bpeTokenBytes(state.merges);
  const tiktoken = new Tiktoken(bpeRanks(state.merges));
  return {
    vocabSize: bpeVocabSize(state.merges),
    endOfText: tokenBytes.length,
    tokenBytes,
    encode: (text, special) => tiktoken.encode(text, special ? "all" : [], []),
  };
}

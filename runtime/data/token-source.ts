// A split's token ids, read by position: from an array in memory (the playground, tests) or from a token
// file of the cache (token-file.ts, by positioned reads), so a training's memory does not grow with its
// corpus: only the windows of the current batch are ever read. No Node imports: the playground uses it.

export type TokenDtype = "uint16" | "uint32";

export interface TokenSource {
  /** How many tokens the split holds. */
  readonly length: number;
  /** Copies tokens [start, start + out.length) into out. */
  read(start: number, out: Int32Array): void;
}

export const bytesPerToken = (dtype: TokenDtype): number => (dtype === "uint16" ? 2 : 4);

/** The smallest dtype that holds every id of a vocabulary (nanoGPT's uint16 where it fits). */
export const dtypeFor = (vocabSize: number): TokenDtype => (vocabSize <= 65_536 ? "uint16" : "uint32");

export function arrayTokens(ids: Int32Array): TokenSource {
  return { length: ids.length, read: (start, out) => out.set(ids.subarray(start, start + out.length)) };
}

/** Tokens or an array of them: what the batch and evaluation functions take. */
export type Tokens = TokenSource | Int32Array;

export const asSource = (tokens: Tokens): TokenSource => (tokens instanceof Int32Array ? arrayTokens(tokens) : tokens);

/** Tokens [start, end) of a source, as a source. */
export function sliceTokens(tokens: Tokens, start: number, end: number): TokenSource {
  const src = asSource(tokens);
  const to = Math.min(end, src.length);
  return { length: Math.max(0, to - start), read: (at, out) => src.read(start + at, out) };
}

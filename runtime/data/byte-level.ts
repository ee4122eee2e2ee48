// Byte-level BPE's shared pieces: GPT-2's pre-tokenizer pattern (the same text split into the same chunks
// by js-tiktoken, tiktoken and Hugging Face's ByteLevel pre-tokenizer) and GPT-2's map of bytes to printable
// characters, in which Hugging Face's tokenizer.json spells byte-level tokens.

/** GPT-2's pre-tokenizer: contractions, words, numbers, punctuation runs and whitespace, a leading space kept with what follows. */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

export const END_OF_TEXT = "<|endoftext|>";

let table: string[] | undefined;

/** Byte → the printable character GPT-2's bytes_to_unicode gives it (printable Latin-1 bytes map to themselves). */
export function byteToUnicode(): readonly string[] {
  if (table) return table;
  const out = new Array<string>(256);
  const kept = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 256;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(kept(b) ? b : next++);
  return (table = out);
}

/** A token's bytes as tokenizer.json spells them. */
export const byteLevelString = (bytes: Uint8Array): string => {
  const map = byteToUnicode();
  let s = "";
  for (const b of bytes) s += map[b]!;
  return s;
};

/**
 * Token bytes in tiktoken's rank format ("! offset b64 b64 …", the format js-tiktoken and tiktoken both
 * read), a token's rank being its id.
 */
export function rankString(tokens: readonly Uint8Array[]): string {
  return `! 0 ${tokens.map(base64).join(" ")}\n`;
}

// btoa, not Buffer: the playground runs this in a browser.
const base64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));

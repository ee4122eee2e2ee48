// A learned BPE as Hugging Face's tokenizer.json (the format `tokenizers` and transformers.js load): a BPE
// model whose vocabulary and merges are spelled in GPT-2's byte-to-character map, GPT-2's ByteLevel
// pre-tokenizer and decoder, and <|endoftext|> as an added special token.
import { byteLevelString, END_OF_TEXT } from "./byte-level.js";
import { bpeTokenBytes, type BpeState } from "./bpe-tokenizer.js";

export function tokenizerJson(state: BpeState): string {
  const tokens = bpeTokenBytes(state.merges).map(byteLevelString);
  const vocab: Record<string, number> = {};
  tokens.forEach((t, id) => (vocab[t] = id));
  const merges: [string, string][] = [];
  for (let i = 0; i < state.merges.length; i += 2) merges.push([tokens[state.merges[i]!]!, tokens[state.merges[i + 1]!]!]);
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  const json = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [{ id: tokens.length, content: END_OF_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: null,
    decoder: byteLevel,
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
  return `${JSON.stringify(json, null, 1)}\n`;
}

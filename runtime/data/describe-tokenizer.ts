// What `babygpt data tokenizer` prints about a tokenizer: its kind and vocabulary, a learned BPE's merges
// (the first and the last, as text), and how it cuts a sample into tokens.
import { END_OF_TEXT } from "./byte-level.js";
import { bpeTokenBytes } from "./bpe-tokenizer.js";
import type { Tokenizer } from "./tokenizer.js";

/** A token's text as it shows in a line: what is not visible spelled out (newline, tab). */
const visible = (s: string): string => JSON.stringify(s).slice(1, -1);

export function describeTokenizer(tokenizer: Tokenizer, sample: string, where?: string): string[] {
  const state = tokenizer.state();
  const lines: string[] = [];
  const vocab = tokenizer.vocabSize.toLocaleString("en-US");
  switch (state.kind) {
    case "char":
      lines.push(`tokenizer: char, vocab ${vocab} (the corpus's ${Array.from(state.chars).length} characters${state.eot ? `, and ${END_OF_TEXT} between documents` : ""})`);
      lines.push(`characters: ${JSON.stringify(state.chars)}`);
      break;
    case "gpt2":
      lines.push(`tokenizer: gpt2 (GPT-2's BPE), vocab ${vocab}${state.compact ? ` (compacted: the ${vocab} of GPT-2's 50,257 tokens the corpus uses)` : ""}`);
      break;
    case "bpe": {
      const merges = state.merges.length / 2;
      lines.push(`tokenizer: bpe (learned byte-level BPE), vocab ${vocab}: 256 bytes, ${merges.toLocaleString("en-US")} merges, ${END_OF_TEXT}`);
      const bytes = bpeTokenBytes(state.merges);
      const text = (id: number): string => visible(new TextDecoder().decode(bytes[id]));
      const merge = (i: number): string => `"${text(state.merges[2 * i]!)}" + "${text(state.merges[2 * i + 1]!)}"`;
      const shown = (from: number, to: number): string[] => Array.from({ length: Math.max(0, to - from) }, (_, k) => merge(from + k));
      lines.push(`first merges: ${shown(0, Math.min(10, merges)).join(", ")}`);
      if (merges > 10) lines.push(`last merges:  ${shown(Math.max(10, merges - 5), merges).join(", ")}`);
      break;
    }
  }
  if (where) lines.push(`file: ${where}`);
  const ids = Array.from(tokenizer.encode(sample));
  const decoder = tokenizer.decoder();
  const pieces = ids.map((id) => visible(decoder.push(id)));
  lines.push(`sample: "${visible(sample)}"`);
  lines.push(`tokens: ${pieces.join("|")}  (${ids.length} tokens, ${(Array.from(sample).length / Math.max(1, ids.length)).toFixed(2)} characters per token)`);
  return lines;
}

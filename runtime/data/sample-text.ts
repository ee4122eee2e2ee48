// A sample of a split's text for showing a tokenizer at work: its first tokens decoded, up to the first
// line's end where one comes soon.
import type { Tokenizer } from "./tokenizer.js";
import { asSource, type Tokens } from "./token-source.js";

export function sampleText(tokenizer: Tokenizer, split: Tokens, tokens = 48): string {
  const src = asSource(split);
  const ids = new Int32Array(Math.min(tokens, src.length));
  src.read(0, ids);
  const text = tokenizer.decode(ids);
  const firstLines = text.split("\n").slice(0, 3).join("\n");
  return firstLines.length >= 20 ? firstLines : text;
}

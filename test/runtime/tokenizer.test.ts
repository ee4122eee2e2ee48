// Tokenizers: round trips, the sorted character vocabulary, GPT-2 BPE (full and compacted), and a clear
// error for a character the vocabulary lacks.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildTokenizer, GPT2_VOCAB, tokenizerFromState } from "../../runtime/data/tokenizer.js";
import { UserError } from "../../runtime/errors.js";
import { useSharedData } from "../helpers/project.js";

const text = readFileSync(join(useSharedData(), "tinyshakespeare.txt"), "utf8");

describe("char tokenizer", () => {
  const tok = buildTokenizer("char", text, false);

  it("has tinyshakespeare's 65 characters, sorted", () => {
    expect(tok.vocabSize).toBe(65);
    const chars = (tok.state() as { chars: string }).chars;
    expect(chars.slice(0, 3)).toBe("\n !");
    expect([...chars].sort().join("")).toBe(chars);
  });

  it("round-trips the whole corpus", () => {
    expect(tok.decode(tok.encode(text))).toBe(text);
  });

  it("maps characters to their sorted index", () => {
    expect(Array.from(tok.encode("hii there"))).toEqual([46, 47, 47, 1, 58, 46, 43, 56, 43]);
  });

  it("rejects a character outside the vocabulary, naming it", () => {
    expect(() => tok.encode("hi €")).toThrow(UserError);
    expect(() => tok.encode("hi €")).toThrow('the character "€" (U+20AC) at position 3 is not in the model\'s vocabulary of 65 characters');
  });

  it("is rebuilt from its saved state", () => {
    const again = tokenizerFromState(tok.state());
    expect(Array.from(again.encode("ROMEO:"))).toEqual(Array.from(tok.encode("ROMEO:")));
  });

  it("handles characters outside the Basic Multilingual Plane as one token", () => {
    const t = buildTokenizer("char", "a😀b", false);
    expect(t.vocabSize).toBe(3);
    expect(t.decode(t.encode("😀ab"))).toBe("😀ab");
  });
});

describe("gpt2 tokenizer", () => {
  it("encodes with GPT-2's byte-pair encoding", () => {
    const tok = buildTokenizer("gpt2", "", false);
    expect(tok.vocabSize).toBe(GPT2_VOCAB);
    expect(Array.from(tok.encode("Hello world"))).toEqual([15496, 995]);
    expect(tok.decode(tok.encode("First Citizen:\nBefore we proceed"))).toBe("First Citizen:\nBefore we proceed");
  });

  it("compacts to the tokens that occur, and round-trips", () => {
    const sample = text.slice(0, 20_000);
    const tok = buildTokenizer("gpt2", sample, true);
    expect(tok.vocabSize).toBeLessThan(3000);
    const ids = tok.encode(sample);
    expect(Math.max(...ids)).toBe(tok.vocabSize - 1);
    expect(tok.decode(ids)).toBe(sample);
    expect(tokenizerFromState(tok.state()).decode(ids)).toBe(sample);
  });

  it("says which token a compacted vocabulary lacks", () => {
    const tok = buildTokenizer("gpt2", "the cat", true);
    expect(() => tok.encode("the dog")).toThrow(/GPT-2 token " dog" \(id 3290\)/);
  });
});

// Tokenizers: round trips, the sorted character vocabulary, GPT-2 BPE (full and compacted), a clear
// error for a character the vocabulary lacks, long texts encoded once and in pieces with progress, and
// decoding token by token (characters split across BPE tokens included) exactly as a whole.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { Tiktoken } from "js-tiktoken/lite";
import { afterEach, describe, expect, it, vi } from "vitest";
import { buildTokenizer, encodeGpt2, GPT2_VOCAB, tokenize, tokenizerFromState, type Tokenizer } from "../../runtime/data/tokenizer.js";
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

/** What a stream decoder writes for `ids`, token by token. */
function streamed(tok: Tokenizer, ids: readonly number[]): string {
  const d = tok.decoder();
  return ids.map((id) => d.push(id)).join("") + d.end();
}

describe("decoding token by token", () => {
  it("gives decode()'s text for any GPT-2 tokens, characters cut between tokens included", () => {
    const tok = buildTokenizer("gpt2", "", false);
    // byte-level tokens (GPT-2 has one for each byte) cut multi-byte characters; any id mixes them in
    const id = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: GPT2_VOCAB - 1 }));
    fc.assert(
      fc.property(fc.array(id, { maxLength: 40 }), (ids) => streamed(tok, ids) === tok.decode(ids)),
      { seed: 20261201, numRuns: 300 },
    );
  });

  it("waits for the token that completes a character, then writes it whole", () => {
    const tok = buildTokenizer("gpt2", "", false);
    const ids = Array.from(tok.encode("€😀 naïve"));
    const pieces: string[] = [];
    const d = tok.decoder();
    for (const i of ids) pieces.push(d.push(i));
    expect(pieces.join("") + d.end()).toBe("€😀 naïve");
    expect(pieces.join("")).not.toContain("\uFFFD");
  });

  it("decodes a compacted vocabulary and characters the same way", () => {
    const sample = "héllo wörld € 😀\n".repeat(3);
    for (const tok of [buildTokenizer("gpt2", sample, true), buildTokenizer("char", sample, false)]) {
      expect(streamed(tok, Array.from(tok.encode(sample)))).toBe(sample);
    }
  });
});

describe("encoding a long text with GPT-2's BPE", () => {
  afterEach(() => vi.restoreAllMocks());

  it("in pieces gives exactly the tokens of one encoding, wherever the pieces end", () => {
    const piece = fc.constantFrom("a", "Z", "é", "1", "42", " ", "  ", "\n", "\n\n", " \n", "\t", "'s", "'ll", "!", "?!", "😀", "—", "x\ny", ".\n ");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), fc.integer({ min: 1, max: 12 }), (parts, chars) => {
        const text = parts.join("");
        expect(encodeGpt2(text, undefined, chars)).toEqual(encodeGpt2(text, undefined, Infinity));
      }),
      { seed: 20261202, numRuns: 400 },
    );
  });

  it("reads a compacted vocabulary off the one encoding that gives the ids, with progress", () => {
    const encode = vi.spyOn(Tiktoken.prototype, "encode");
    const progress: number[] = [];
    const { tokenizer, ids } = tokenize("gpt2", text, true, { onProgress: (done, total) => (expect(total).toBe(text.length), progress.push(done)) });
    // every character went through the encoder once (in pieces of about a million characters)
    expect(encode.mock.calls.reduce((n, [piece]) => n + piece.length, 0)).toBe(text.length);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(text.length);
    expect(tokenizer.vocabSize).toBe(11_706);
    expect(tokenizer.decode(ids)).toBe(text);
  });
});

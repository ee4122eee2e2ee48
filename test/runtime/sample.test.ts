// Sampling writes text as it is drawn, each token decoded once: the text written equals the decoding of
// all the tokens drawn, BPE tokens that end inside a character included, and the tokenizer's whole-output
// decode is never called (re-decoding everything per token made 40,000 tokens take minutes).
import { describe, expect, it } from "vitest";
import { createModel } from "../../generated/01-bigram.js";
import { selectBackend } from "../../runtime/backend/select.js";
import { buildTokenizer, startContext, type Tokenizer } from "../../runtime/data/tokenizer.js";
import { Prng } from "../../runtime/random.js";
import { streamText } from "../../runtime/sample.js";

describe("streamText", () => {
  it("writes exactly the decoded tokens, decoding each token once", async () => {
    await selectBackend("cpu");
    const corpus = "héllo wörld, € and 😀 — naïve café\n".repeat(4);
    const tok = buildTokenizer("gpt2", corpus, true);
    const model = createModel({ vocabSize: tok.vocabSize, seed: 7 });
    model.eval();
    const noWholeDecode: Tokenizer = { ...tok, encode: tok.encode.bind(tok), decoder: tok.decoder.bind(tok), state: tok.state.bind(tok), decode: () => { throw new Error("decoded the whole output"); } };
    let written = "";
    const ids = await streamText(model, noWholeDecode, startContext(tok), { tokens: 300, temperature: 1, rng: new Prng(5) }, (t) => (written += t));
    expect(ids).toHaveLength(300);
    expect(written).toBe(tok.decode(ids));
    model.dispose();
  });

  it("starts from the vocabulary's first token when it has no newline", () => {
    const tok = buildTokenizer("char", "abcabc", false);
    expect(startContext(tok)).toEqual([0]);
    expect(startContext(buildTokenizer("gpt2", "", false))).toEqual([198]); // GPT-2's newline
    expect(startContext(buildTokenizer("gpt2", "one line, no newline", true))).toEqual([0]);
    const lines = buildTokenizer("gpt2", "two\nlines", true);
    expect(lines.decode(startContext(lines))).toBe("\n");
  });
});

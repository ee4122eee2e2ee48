// The KV cache of sampling against the path without it, for every attention variant: at each step the
// next token's logits agree to 1e-5 (relative to their scale), greedy output is the same tokens, and the
// context sliding past block_size (where each step feeds the whole window, cache or not) changes neither.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSpec } from "../../compiler/spec/load.js";
import { selectBackend } from "../../runtime/backend/select.js";
import { resolveModel } from "../../runtime/model-source.js";
import type { LanguageModel } from "../../runtime/nn/language-model.js";
import { tf } from "../../runtime/nn/tf.js";
import { Prng } from "../../runtime/random.js";
import { generate, nextLogits, pickToken } from "../../runtime/sample.js";
import { PROJECT_ROOT } from "../helpers/project.js";

const VOCAB = 65;
/** Each at a context short enough that 3 × block_size tokens slide the window many times. */
const MODELS: readonly [string, readonly string[]][] = [
  ["test/parity/specs/llama.yaml", []], // rotary, grouped-query, qk-norm, tied
  ["test/parity/specs/variants.yaml", []], // multi-query partial rotary with a learned table, per-head attention with biases
  ["specs/04-single-head.yaml", []], // one attention_head, written out
  ["specs/14-sinusoidal.yaml", ["model.n_embd=16", "model.block_size=8"]], // the fused multi-head op, a fixed position code
  ["test/parity/specs/shaping.yaml", []], // sliding windows (the cache keeps what they read), ALiBi, score and logit caps
  ["test/parity/specs/shared.yaml", []], // one block's weights applied three times: an entry per application
];

let models: [string, LanguageModel][] = [];

beforeAll(async () => {
  await selectBackend("cpu");
  for (const [spec, sets] of MODELS) {
    const path = join(PROJECT_ROOT, spec);
    const { module } = await resolveModel(path, loadSpec(path, { cwd: PROJECT_ROOT, sets }), { compile: false, sets });
    models.push([spec, module.createModel({ vocabSize: VOCAB, seed: 5 }).eval()]);
  }
});

afterAll(() => {
  for (const [, m] of models) m.dispose();
  models = [];
});

describe("sampling with the KV cache", () => {
  it.each(MODELS.map(([spec]) => spec))("%s: the next token's logits agree with the uncached path at every step", async (spec) => {
    const model = models.find(([s]) => s === spec)![1];
    const worstError = async (): Promise<number> => {
      const cached = nextLogits(model, true);
      const plain = nextLogits(model, false);
      const rng = new Prng(11);
      const ids = [1, 7, 3];
      let worst = 0;
      for (let n = 0; n < 3 * model.blockSize; n++) {
        const a = await cached.step(ids);
        const b = await plain.step(ids);
        let diff = 0;
        let scale = 0;
        for (let i = 0; i < b.length; i++) {
          diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
          scale = Math.max(scale, Math.abs(b[i]!));
        }
        worst = Math.max(worst, diff / scale);
        ids.push(pickToken(b, 1, undefined, rng));
      }
      cached.dispose();
      plain.dispose();
      return worst;
    };
    expect(await worstError()).toBeLessThanOrEqual(1e-5);
    // The second time round (causal masks of each shape are cached once), nothing is left behind.
    const before = tf.memory().numTensors;
    await worstError();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(MODELS.map(([spec]) => spec))("%s: greedy output is the same with and without the cache", async (spec) => {
    const model = models.find(([s]) => s === spec)![1];
    const options = { tokens: 2 * model.blockSize + 3, temperature: 0, rng: new Prng(1) };
    const withCache = await generate(model, [2, 4], options);
    expect(await generate(model, [2, 4], { ...options, cache: false })).toEqual(withCache);
  });
});

describe("top-p", () => {
  it("draws only from the smallest set of tokens whose probability reaches p", () => {
    // probabilities ∝ e^2, e^1, e^0, e^-5: the first two hold 0.66 + 0.24 = 0.90 of the mass
    const logits = Float32Array.from([2, 1, 0, -5]);
    const drawn = new Set<number>();
    const rng = new Prng(3);
    for (let i = 0; i < 400; i++) drawn.add(pickToken(logits, 1, undefined, rng, 0.85));
    expect([...drawn].sort()).toEqual([0, 1]);
    const wider = new Set<number>();
    for (let i = 0; i < 400; i++) wider.add(pickToken(logits, 1, undefined, rng, 0.95));
    expect([...wider].sort()).toEqual([0, 1, 2]);
  });
});

// The native decode plan against the generated forward, which defines the model, on the native backend:
// for every ladder spec (shrunk to a width of 24 and a context of 8), every zoo architecture and every parity variant (windows,
// ALiBi, caps, rotary and grouped-query attention, shared weights, experts, skips, parallel branches),
// the next token's logits agree at every step, with the cache and without, while the context slides past
// block_size; greedy tokens and sampled tokens (a seed, top-k and top-p) are the same tokens. A batch
// gives each sample what it gets alone. Where the plan cannot run, the generated forward does.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePlan, loadSpec, type DecodePlan } from "../../compiler/index.js";
import { selectBackend } from "../../runtime/backend/select.js";
import { resolveModel } from "../../runtime/model-source.js";
import type { LanguageModel } from "../../runtime/nn/language-model.js";
import { Prng } from "../../runtime/random.js";
import { generate, generateBatch, nextLogits, pickToken } from "../../runtime/sample.js";
import { backendSampling, type PlanDecoder } from "../../runtime/sampling/backends.js";
import { nativeUnavailable } from "../helpers/native.js";
import { PROJECT_ROOT } from "../helpers/project.js";

const unavailable = nativeUnavailable();
const VOCAB = 65;
const SMALL = ["model.n_embd=24", "model.block_size=8"];
const MODELS: readonly [string, readonly string[]][] = [
  ["specs/01-bigram.yaml", SMALL],
  ["specs/02-position.yaml", SMALL],
  ["specs/04-single-head.yaml", SMALL], // one head, written out: matmul, mask, softmax
  ["specs/05-multi-head.yaml", SMALL],
  ["specs/06-feed-forward.yaml", SMALL],
  ["specs/07-blocks.yaml", ["model.block_size=8"]], // its blocks widen the stream
  ["specs/08-residual.yaml", SMALL],
  ["specs/09-layernorm.yaml", SMALL],
  ["specs/10-dropout.yaml", SMALL], // dropout: nothing in evaluation
  ["specs/11-gpt.yaml", SMALL],
  ["specs/12-baby-gpt.yaml", SMALL],
  ["specs/13-gpt2-bpe.yaml", SMALL],
  ["specs/14-sinusoidal.yaml", SMALL], // a fixed position table: a buffer
  ["specs/15-modern.yaml", SMALL],
  ["test/parity/specs/llama.yaml", []], // rotary, grouped-query, qk-norm, SwiGLU, tied
  ["test/parity/specs/moe.yaml", []], // experts: top 2 of 4 gated, top 1 of 3 with biases
  ["test/parity/specs/norms.yaml", []],
  ["test/parity/specs/parallel.yaml", []],
  ["test/parity/specs/shaping.yaml", []], // windows, ALiBi, score and logit caps, scaled embeddings
  ["test/parity/specs/shared.yaml", []], // one block applied three times: a cache per application
  ["test/parity/specs/skips.yaml", []], // saved streams added back, learned weights
  ["test/parity/specs/variants.yaml", []], // multi-query partial rotary, per-head biases, ReLU², GeGLU
  // The zoo's published architectures, as users sample them (their own sizes are small).
  ...["albert", "bloom", "gemma2", "gpt2", "gptj", "llama2", "mistral", "mixtral", "modded-nanogpt", "vaswani"].map((name): [string, readonly string[]] => [`specs/zoo/${name}.yaml`, ["model.block_size=8"]]),
];

interface Entry {
  readonly model: LanguageModel;
  readonly plan: DecodePlan;
}
const entries = new Map<string, Entry>();

async function load(spec: string, sets: readonly string[]): Promise<Entry> {
  const path = join(PROJECT_ROOT, spec);
  const { module, ir } = await resolveModel(path, loadSpec(path, { cwd: PROJECT_ROOT, sets }), { compile: false, sets });
  const plan = decodePlan(ir, VOCAB);
  if ("unsupported" in plan) throw new Error(`${spec}: no plan: ${plan.unsupported}`);
  return { model: module.createModel({ vocabSize: VOCAB, seed: 5 }).eval(), plan };
}

function decoder(e: Entry, batch = 1): PlanDecoder {
  const d = backendSampling("native")!.decoder(e.plan, e.model, { batch, choice: { temperature: 1 }, logits: true });
  if ("unsupported" in d) throw new Error(d.unsupported);
  return d;
}

/** Worst |a − b| over the largest |b| of each step, feeding the plan as generateBatch does. */
async function worstLogitError(e: Entry, cache: boolean): Promise<number> {
  const plan = decoder(e);
  const reference = nextLogits(e.model, cache);
  const rng = new Prng(11);
  const ids = [1, 7, 3];
  let cached = 0;
  let worst = 0;
  try {
    for (let n = 0; n < 3 * e.model.blockSize; n++) {
      const want = await reference.step(ids);
      const start = Math.max(0, ids.length - e.model.blockSize);
      const sliding = !cache || start > 0;
      const from = sliding ? start : cached;
      plan.step(Int32Array.from(ids.slice(from)), ids.length - from, sliding ? 0 : cached, Float64Array.of(0));
      cached = sliding ? 0 : ids.length;
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < want.length; i++) {
        diff = Math.max(diff, Math.abs(plan.logits![i]! - want[i]!));
        scale = Math.max(scale, Math.abs(want[i]!));
      }
      worst = Math.max(worst, diff / scale);
      ids.push(pickToken(want, 1, undefined, rng));
    }
  } finally {
    plan.dispose();
    reference.dispose();
  }
  return worst;
}

beforeAll(async () => {
  if (unavailable) return;
  await selectBackend("native");
  for (const [spec, sets] of MODELS) entries.set(spec, await load(spec, sets));
});

afterAll(() => {
  for (const e of entries.values()) e.model.dispose();
  entries.clear();
});

describe.skipIf(unavailable)("the native decode plan against the generated forward", () => {
  it.each(MODELS.map(([spec]) => spec))("%s: the next token's logits agree at every step, with the cache and without", async (spec) => {
    const e = entries.get(spec)!;
    expect(await worstLogitError(e, true)).toBeLessThanOrEqual(1e-5);
    expect(await worstLogitError(e, false)).toBeLessThanOrEqual(1e-5);
  });

  it.each(MODELS.map(([spec]) => spec))("%s: the same greedy and sampled tokens", async (spec) => {
    const { model, plan } = entries.get(spec)!;
    const tokens = 2 * model.blockSize + 3;
    for (const choice of [{ temperature: 0 }, { temperature: 1 }, { temperature: 0.8, topK: 5, topP: 0.9 }]) {
      for (const cache of [true, false]) {
        const options = { tokens, cache, plan, ...choice };
        const fast = await generateBatch(model, [2, 4], { ...options, rngs: [new Prng(21)] });
        expect(fast.path).toEqual({ kind: "plan" });
        const reference = await generateBatch(model, [2, 4], { ...options, rngs: [new Prng(21)], path: "forward" });
        expect(reference.path.kind).toBe("forward");
        expect(fast.sequences).toEqual(reference.sequences);
      }
    }
  });
});

describe.skipIf(unavailable)("a batch of samples", () => {
  it.each(["specs/12-baby-gpt.yaml", "test/parity/specs/moe.yaml", "test/parity/specs/shaping.yaml"])("%s: sample i is the single sample of seed 30 + i, on both paths", async (spec) => {
    const { model, plan } = entries.get(spec)!;
    const options = { tokens: 2 * model.blockSize + 2, temperature: 1, topK: 20, plan };
    for (const path of ["auto", "forward"] as const) {
      const batch = await generateBatch(model, [5], { ...options, path, rngs: [0, 1, 2].map((i) => new Prng(30 + i)) });
      const singles = await Promise.all([0, 1, 2].map((i) => generate(model, [5], { ...options, path, rng: new Prng(30 + i) })));
      expect(batch.sequences).toEqual(singles);
      expect(new Set(singles.map((s) => s.join())).size).toBe(3);
    }
  });

  it.each([2, 5, 7, 8])("%d sequences a token at a time: the last row's logits are the bits it gets alone, at every step", (B) => {
    // Rows of one position each run in blocks whose size depends on the batch (blocks of up to 6 rows, one
    // row by itself): the arithmetic of a row must not.
    const e = entries.get("specs/12-baby-gpt.yaml")!;
    const many = decoder(e, B);
    const one = decoder(e, 1);
    try {
      for (let past = 0; past < e.model.blockSize; past++) {
        const tokens = Int32Array.from({ length: B }, (_, b) => (7 * b + 3 * past) % VOCAB);
        many.step(tokens, 1, past, new Float64Array(B).fill(0.5));
        one.step(tokens.subarray(B - 1), 1, past, Float64Array.of(0.5));
        expect(Array.from(many.logits!.subarray((B - 1) * VOCAB, B * VOCAB))).toEqual(Array.from(one.logits!));
      }
    } finally {
      many.dispose();
      one.dispose();
    }
  });

  it("a decoder made for 4 sequences steps 2: each row gets the logits it gets alone", () => {
    const e = entries.get("specs/11-gpt.yaml")!;
    const four = decoder(e, 4);
    const one = decoder(e, 1);
    const u = Float64Array.of(0.25, 0.75);
    four.step(Int32Array.of(1, 2, 3, 4, 5, 6), 3, 0, u);
    const rows = four.logits!.slice(0, 2 * VOCAB);
    one.step(Int32Array.of(4, 5, 6), 3, 0, u.subarray(1));
    expect(Array.from(rows.subarray(VOCAB))).toEqual(Array.from(one.logits!));
    four.dispose();
    one.dispose();
  });
});

describe.skipIf(unavailable)("where the plan cannot run, the generated forward does", () => {
  const options = (plan: Parameters<typeof generateBatch>[2]["plan"]) => ({ tokens: 12, temperature: 1, plan, rngs: [new Prng(4)] });

  it("a model the plan does not describe: its weights are checked by name and shape", async () => {
    const baby = entries.get("specs/12-baby-gpt.yaml")!;
    const gpt = entries.get("specs/11-gpt.yaml")!;
    const r = await generateBatch(gpt.model, [1], options(baby.plan));
    expect(r.path.kind).toBe("forward");
    expect(r.path.why).toMatch(/^the plan (reads blocks\.\d+\.\S+, which the model does not have|reads \S+ as \d+(x\d+)*, the model's is \d+(x\d+)*)|is for a vocabulary/);
    expect(r.sequences).toEqual((await generateBatch(gpt.model, [1], { ...options(gpt.plan), path: "forward" })).sequences);
  });

  it("a plan the compiler could not make", async () => {
    const { model } = entries.get("specs/12-baby-gpt.yaml")!;
    const r = await generateBatch(model, [1], options({ unsupported: "the op mystery" }));
    expect(r.path).toEqual({ kind: "forward", why: "the decode plan cannot follow this model: the op mystery" });
  });

  it("a model in training mode, whose dropout the plan leaves out", async () => {
    const { model, plan } = entries.get("specs/10-dropout.yaml")!;
    model.train();
    try {
      const r = await generateBatch(model, [1], options(plan));
      expect(r.path.kind).toBe("forward");
      expect(r.path.why).toMatch(/training mode/);
    } finally {
      model.eval();
    }
  });

  it("a backend that runs no plans", async () => {
    const { model, plan } = entries.get("specs/12-baby-gpt.yaml")!;
    await selectBackend("cpu");
    try {
      expect((await generateBatch(model, [1], options(plan))).path).toEqual({ kind: "forward", why: "the cpu backend runs no decode plans" });
    } finally {
      await selectBackend("native");
    }
  });
});

describe.skipIf(unavailable)("the native draw", () => {
  it("picks what pickToken picks, for every temperature, top-k and top-p", () => {
    const native = backendSampling("native")!;
    const data = new Prng(99);
    for (let trial = 0; trial < 300; trial++) {
      const V = 2 + (trial % 40);
      // Some ties among the logits, as top-k's order must break them the same way.
      const logits = Float32Array.from({ length: V }, () => Math.round(data.nextNormal() * 4) / 2);
      const choice = { temperature: [0, 0.5, 1, 2][trial % 4]!, topK: trial % 3 === 0 ? 1 + (trial % 7) : undefined, topP: trial % 5 === 0 ? 0.3 + (trial % 7) / 10 : undefined };
      const u = data.nextFloat();
      const drawn = native.pick(logits, V, choice, Float64Array.of(u))[0];
      expect(drawn).toBe(pickToken(logits, choice.temperature, choice.topK, { nextFloat: () => u } as Prng, choice.topP));
    }
  });
});

describe.skipIf(unavailable)("the decoder's checks", () => {
  it("refuses tokens outside the vocabulary, positions past the block and batches past its size", () => {
    const d = decoder(entries.get("specs/12-baby-gpt.yaml")!, 2);
    expect(() => d.step(Int32Array.of(VOCAB), 1, 0, Float64Array.of(0))).toThrow("babygpt native: decoderStep: token 65 is outside the vocabulary of 65");
    expect(() => d.step(Int32Array.of(1, 2), 2, 7, Float64Array.of(0))).toThrow(/1 sequences of 2 positions after 7, for a decoder of 2 sequences of 8/);
    expect(() => d.step(Int32Array.of(1, 2, 3), 1, 0, Float64Array.of(0, 0, 0))).toThrow(/3 sequences of 1 positions after 0/);
    d.dispose();
    expect(() => d.step(Int32Array.of(1), 1, 0, Float64Array.of(0))).toThrow("the decoder was disposed");
  });

  it("refuses a plan whose steps read past a weight", () => {
    const e = entries.get("specs/12-baby-gpt.yaml")!;
    const lm = e.plan.tensors.findIndex((t) => t.name === "lm_head.weight");
    const broken: DecodePlan = { ...e.plan, tensors: e.plan.tensors.map((t, i) => (i === lm ? { ...t, shape: [VOCAB - 1, t.shape[1]!] } : t)) };
    // The model's tensor no longer has the plan's shape: refused before the addon sees it.
    const refused = backendSampling("native")!.decoder(broken, e.model, { batch: 1, choice: { temperature: 0 } });
    expect(refused).toEqual({ unsupported: `the plan reads lm_head.weight as ${VOCAB - 1}x24, the model's is ${VOCAB}x24` });
  });
});

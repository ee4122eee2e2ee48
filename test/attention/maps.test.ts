// Attention maps: the weights recorded from a forward pass are the heads' own softmax(mask(q·kᵀ·scale)),
// attributed to the right layer and head, without changing the forward's result or leaking tensors.
import { describe, expect, it } from "vitest";
import { attentionHeads, attentionMaps } from "../../runtime/attention/maps.js";
import { attentionIndexHtml, attentionSvg, mapFileName } from "../../runtime/attention/svg.js";
import { selectBackend } from "../../runtime/backend/select.js";
import type { LanguageModel } from "../../runtime/nn/language-model.js";
import { tf } from "../../runtime/nn/tf.js";
import { createModel as singleHead } from "../../generated/04-single-head.js";
import { createModel as multiHead } from "../../generated/05-multi-head.js";
import { createModel as babyGpt } from "../../generated/12-baby-gpt.js";
import { createModel as modern } from "../../generated/15-modern.js";
import { join } from "node:path";
import { loadSpec } from "../../compiler/spec/load.js";
import { resolveModel } from "../../runtime/model-source.js";
import { nativeUnavailable } from "../helpers/native.js";
import { PROJECT_ROOT } from "../helpers/project.js";

// On native the fused attention kernel would run, and it never materialises the weights: the recording
// has to switch the ops to their references for any map to come out.
await selectBackend(nativeUnavailable() ? "cpu" : "native");

const IDS = [5, 1, 9, 9, 3, 7];

/** One head's weights from its parameters, for an attention that reads the embeddings directly. */
function expected(model: LanguageModel, prefix: string, headSize: number): number[][] {
  const p = new Map(model.namedParameters());
  return tf.tidy(() => {
    const T = IDS.length;
    const x = tf.add(tf.gather(p.get("token_embedding.weight")!, IDS), tf.slice(p.get("position_embedding.weight")!, [0, 0], [T, -1]));
    const q = tf.matMul(x, p.get(`${prefix}.query.weight`)!, false, true);
    const k = tf.matMul(x, p.get(`${prefix}.key.weight`)!, false, true);
    const scores = tf.mul(tf.matMul(q, k, false, true), headSize ** -0.5);
    const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0);
    return tf.softmax(tf.where(tf.cast(mask, "bool"), scores, tf.fill([T, T], -Infinity))).arraySync() as number[][];
  });
}

const close = (a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number => Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i]![j]!))));

describe("attention maps", () => {
  it("keep a map per application of a block whose weights a shared repeat applies three times", async () => {
    const path = join(PROJECT_ROOT, "test/parity/specs/shared.yaml");
    const { module } = await resolveModel(path, loadSpec(path, { cwd: PROJECT_ROOT }), { compile: false, sets: [] });
    const model = module.createModel({ vocabSize: 65, seed: 3 }).eval();
    const maps = await attentionMaps(model, IDS);
    expect(maps.map((m) => `${m.layer}@${m.application}:${m.head}`)).toEqual(["blocks.0.attn@0:0", "blocks.0.attn@0:1", "blocks.0.attn@1:0", "blocks.0.attn@1:1", "blocks.0.attn@2:0", "blocks.0.attn@2:1"]);
    // each application reads another stream, so its weights differ from the one before
    expect(close(maps[0]!.weights, maps[2]!.weights)).toBeGreaterThan(1e-3);
    expect(new Set(maps.map((m) => mapFileName(m))).size).toBe(6);
    model.dispose();
  });

  it("are the single head's weights", async () => {
    const model = singleHead({ vocabSize: 65, seed: 3 }).eval();
    const maps = await attentionMaps(model, IDS);
    expect(maps.map((m) => [m.layer, m.head])).toEqual([["head", 0]]);
    expect(close(maps[0]!.weights, expected(model, "head", 32))).toBeLessThan(1e-5);
    model.dispose();
  });

  it("are each head's weights inside the fused multi-head op, in head order", async () => {
    const model = multiHead({ vocabSize: 65, seed: 3 }).eval();
    const maps = await attentionMaps(model, IDS);
    expect(maps.map((m) => `${m.layer}:${m.head}`)).toEqual(["attn:0", "attn:1", "attn:2", "attn:3"]);
    for (const m of maps) expect(close(m.weights, expected(model, `attn.heads.${m.head}`, 8))).toBeLessThan(1e-5);
    // Heads of one layer differ: a mix-up of heads would not pass the comparison above.
    expect(close(maps[0]!.weights, maps[1]!.weights)).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it("cover every block's heads, are causal and row-stochastic, and leave the forward and the tensor count alone", async () => {
    const model = babyGpt({ vocabSize: 65, seed: 3 }).eval();
    const idx = tf.tensor2d([IDS], [1, IDS.length], "int32");
    const before = tf.tidy(() => model.forward(idx).logits.arraySync());
    const live = tf.memory().numTensors;
    const maps = await attentionMaps(model, IDS);
    expect(tf.memory().numTensors).toBe(live);
    expect(tf.tidy(() => model.forward(idx).logits.arraySync())).toEqual(before);
    expect(attentionHeads(model)).toHaveLength(16);
    expect(new Set(maps.map((m) => m.layer))).toEqual(new Set(["blocks.0.attn", "blocks.1.attn", "blocks.2.attn", "blocks.3.attn"]));
    for (const m of maps) {
      m.weights.forEach((row, i) => {
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        for (let j = i + 1; j < row.length; j++) expect(row[j]).toBe(0);
      });
    }
    idx.dispose();
    model.dispose();
  });

  it("split a layer that runs all its heads at once (RoPE, grouped-query: 15-modern) into its heads, causal and row-stochastic", async () => {
    const model = modern({ vocabSize: 65, seed: 3 }).eval();
    const live = tf.memory().numTensors;
    const maps = await attentionMaps(model, IDS);
    expect(tf.memory().numTensors).toBe(live);
    const layers = attentionHeads(model).map((h) => h.layer);
    expect(layers.length).toBeGreaterThan(1);
    const heads = maps.length / layers.length;
    expect(Number.isInteger(heads) && heads > 1).toBe(true);
    expect(maps.map((m) => `${m.layer}:${m.head}`)).toEqual(layers.flatMap((l) => Array.from({ length: heads }, (_, h) => `${l}:${h}`)));
    for (const m of maps) {
      expect(m.weights).toHaveLength(IDS.length);
      m.weights.forEach((row, i) => {
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        for (let j = i + 1; j < row.length; j++) expect(row[j]).toBe(0);
      });
    }
    expect(close(maps[0]!.weights, maps[1]!.weights)).toBeGreaterThan(1e-4);
    model.dispose();
  });

  it("draw as an SVG with a labelled row and column per token, and a grid page linking every map", () => {
    const maps = [
      { layer: "blocks.0.attn", head: 0, weights: [[1, 0], [0.25, 0.75]] },
      { layer: "blocks.0.attn", head: 1, weights: [[1, 0], [0.5, 0.5]] },
    ];
    const svg = attentionSvg(maps[0]!, ["<", " "]);
    expect(svg).toContain("&lt;");
    expect(svg).toContain("␣");
    expect(svg.match(/<rect [^>]*fill="rgb/g)).toHaveLength(3); // the lower triangle only
    expect(svg).toContain("␣ → &lt;: 0.250");
    const html = attentionIndexHtml("t", "ROMEO:", maps);
    for (const m of maps) expect(html).toContain(`src="${mapFileName(m)}"`);
  });
});

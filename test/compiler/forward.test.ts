// A generated model's tfjs forward pass has the shapes, parameter names and count the IR predicted, and
// leaves no tensors behind.
import { describe, expect, it, beforeAll } from "vitest";
import { countParams, namedParams } from "../../compiler/ir/analysis.js";
import { resolveWidth } from "../../compiler/ir/width.js";
import { lowerSpec } from "../../compiler/ir/lower.js";
import { loadSpec } from "../../compiler/spec/load.js";
import { selectBackend } from "../../runtime/backend/select.js";
import { tf } from "../../runtime/nn/tf.js";
import { PROJECT_ROOT } from "../helpers/project.js";
import type { ModelModule } from "../../runtime/model-source.js";
import { models } from "../../generated/index.js";

const VOCAB = 65;
const specs = ["01-bigram", "02-position", "04-single-head", "05-multi-head", "06-feed-forward", "07-blocks", "08-residual", "09-layernorm", "10-dropout", "12-baby-gpt", "14-sinusoidal", "15-modern"];

beforeAll(async () => {
  await selectBackend("wasm");
});

describe("generated models", () => {
  it.each(specs)("%s: forward shapes and parameters match the IR", async (name) => {
    const ir = lowerSpec(loadSpec(`specs/${name}.yaml`, { cwd: PROJECT_ROOT }));
    const mod = (await import(`../../generated/${name}.ts`)) as ModelModule;
    const before = tf.memory().numTensors;
    const model = mod.createModel({ vocabSize: VOCAB, seed: 1 });
    const params = model.namedParameters();
    const predicted = namedParams(ir);
    expect(params.map(([n]) => n)).toEqual(predicted.map((p) => p.name));
    params.forEach(([, v], i) => expect(v.shape).toEqual(predicted[i]!.shape.map((w) => resolveWidth(w, { vocab: VOCAB, T: ir.blockSize }))));
    expect(model.parameterCount()).toBe(countParams(ir, VOCAB));

    const B = 2;
    const T = ir.blockSize;
    const idx = tf.randomUniformInt([B, T], 0, VOCAB) as tf.Tensor2D;
    tf.dispose(Object.values(model.forward(idx, idx))); // the first call may cache a causal mask for this T
    const afterWarmup = tf.memory().numTensors;
    const { logits, loss } = model.forward(idx, idx);
    expect(logits.shape).toEqual([B, T, VOCAB]);
    expect(loss!.shape).toEqual([]);
    const value = loss!.dataSync()[0]!;
    // At initialization the loss is near ln(65) ≈ 4.17 for small-weight models (the bigram's N(0,1) table is worse)
    expect(value).toBeGreaterThan(3);
    expect(value).toBeLessThan(8);
    tf.dispose([logits, loss!]);
    expect(tf.memory().numTensors).toBe(afterWarmup);
    idx.dispose();

    // shorter contexts work too (sampling starts with one token)
    const one = tf.tensor2d([[3]], [1, 1], "int32");
    const out = model.forward(one);
    expect(out.logits.shape).toEqual([1, 1, VOCAB]);
    tf.dispose([one, out.logits]);
    model.dispose();
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 2); // cached causal masks (T and 1) stay
  });

  it("keeps the parameter names existing checkpoints hold (a multi-head layer's heads included)", () => {
    const model = models["baby-gpt"].createModel({ vocabSize: VOCAB, seed: 1 });
    const names = model.namedParameters().map(([n]) => n);
    model.dispose();
    expect(names.slice(0, 8)).toEqual([
      "token_embedding.weight",
      "position_embedding.weight",
      "blocks.0.ln1.gamma",
      "blocks.0.ln1.beta",
      "blocks.0.attn.heads.0.key.weight",
      "blocks.0.attn.heads.0.query.weight",
      "blocks.0.attn.heads.0.value.weight",
      "blocks.0.attn.heads.1.key.weight",
    ]);
    expect(names).toContain("blocks.3.attn.proj.bias");
  });
});

// The IR's shapes, parameter names and counts, FLOPs and memory, against hand-computed values.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { activationBytes, activeParams, costs, countParams, namedParams, summaryRows } from "../../compiler/ir/analysis.js";
import { lowerSpec } from "../../compiler/ir/lower.js";
import { nodeDef } from "../../compiler/ir/nodes/index.js";
import { loadSpec } from "../../compiler/spec/load.js";
import { inspectReport } from "../../runtime/inspect-report.js";
import { PROJECT_ROOT, tempFiles } from "../helpers/project.js";

const ir = (spec: string, sets: string[] = []) => lowerSpec(loadSpec(spec, { cwd: PROJECT_ROOT, sets }));

describe("parameter counts", () => {
  it("the lecture GPT has exactly 10,788,929 parameters with the 65-character vocabulary", () => {
    expect(countParams(ir("specs/11-gpt.yaml"), 65)).toBe(10_788_929);
  });

  it.each([
    // vocab² table
    ["specs/01-bigram.yaml", 65 * 65],
    // token table + position table + head (weights and bias)
    ["specs/02-position.yaml", 65 * 32 + 8 * 32 + 32 * 65 + 65],
    // + one head: key, query, value of 32 × 32, no bias
    ["specs/04-single-head.yaml", 65 * 32 + 8 * 32 + 3 * 32 * 32 + 32 * 65 + 65],
    // four heads of 8 have the same key/query/value weights in total as one head of 32
    ["specs/05-multi-head.yaml", 65 * 32 + 8 * 32 + 4 * 3 * 8 * 32 + 32 * 65 + 65],
  ])("%s has %i parameters", (spec, want) => {
    expect(countParams(ir(spec), 65)).toBe(want);
  });

  it("counts a llama-style model's tied table once, its kv heads and gate, and its parameter-free head", () => {
    const llama = ir("test/parity/specs/llama.yaml");
    // attention: query 16 × 16, key and value 2 kv heads × 4 × 16 each, q and k gains of 4, output 16 × 16
    const attn = 16 * 16 + 2 * (2 * 4 * 16) + 2 * 4 + 16 * 16;
    // SwiGLU: gate, up and down of 16 × 24, no biases
    const ffwd = 3 * 16 * 24;
    // the token table (the head's weight too), two blocks of two RMSNorm gains, attention and MLP, the final norm
    expect(countParams(llama, 65)).toBe(65 * 16 + 2 * (16 + attn + 16 + ffwd) + 16);
    const names = namedParams(llama).map((p) => p.name);
    expect(names.filter((n) => n.startsWith("lm_head"))).toEqual([]);
    expect(names.slice(0, 8)).toEqual(["token_embedding.weight", "blocks.0.norm1.gamma", "blocks.0.attn.query.weight", "blocks.0.attn.key.weight", "blocks.0.attn.value.weight", "blocks.0.attn.q_norm.gamma", "blocks.0.attn.k_norm.gamma", "blocks.0.attn.proj.weight"]);
    // Per block, 2 kv heads instead of 4 project 2 fewer keys and values (16 × 4 multiply-adds each), and
    // rotate (3 FLOPs per rotated dimension) and normalize (4 per dimension) 2 fewer keys.
    const mha = ir("test/parity/specs/llama.yaml", ["model.layers.1.body.0.body.0.body.1.kv_heads=4"]);
    const saved = 2 * (2 * 2 * (2 * 16 * 4) + 2 * 3 * 4 + 2 * 4 * 4);
    expect(costs(mha, { vocab: 65, T: 8 }).flopsPerToken - costs(llama, { vocab: 65, T: 8 }).flopsPerToken).toBe(saved);
  });

  it("counts a mixture of experts: the router and every expert, the parameters a token runs, and FLOPs for the K experts it runs", () => {
    const moe = ir("test/parity/specs/moe.yaml");
    // Per block: 4 SwiGLU experts of 3 × 16 × 24 and a router of 4 × 16, beside 2 RMSNorm gains and
    // attention (query, key, value and output of 16 × 16, no biases). Then 3 GELU experts with biases
    // (16 × 64 + 64 and 64 × 16 + 16) and their router of 3 × 16 after a layer norm.
    const swiglu = 3 * 16 * 24;
    const gelu = 16 * 64 + 64 + 64 * 16 + 16;
    const block = 16 + 4 * 16 * 16 + 16 + 4 * 16 + 4 * swiglu;
    const total = 65 * 16 + 2 * block + 2 * 16 + 3 * 16 + 3 * gelu + 16 + 16 * 65;
    expect(countParams(moe, 65)).toBe(total);
    // A token runs 2 of the 4 SwiGLU experts in each block and 1 of the 3 GELU experts.
    expect(activeParams(moe, 65)).toBe(total - 2 * 2 * swiglu - 2 * gelu);
    const names = namedParams(moe).map((p) => p.name);
    expect(names.filter((n) => n.startsWith("blocks.0.ffwd."))).toEqual([
      "blocks.0.ffwd.router.weight",
      ...[0, 1, 2, 3].flatMap((i) => [`blocks.0.ffwd.experts.${i}.gate.weight`, `blocks.0.ffwd.experts.${i}.fc.weight`, `blocks.0.ffwd.experts.${i}.proj.weight`]),
    ]);
    // Each more expert per token costs one expert's FLOPs, plus its share of the weighted sum (2 per feature).
    const top2 = ir("test/parity/specs/moe.yaml", ["model.layers.2.body.1.top_k=2"]);
    const oneExpert = 2 * 2 * 16 * 64 + 64 + 64 + 16; // two products, bias, GELU and the output bias
    expect(costs(top2, { vocab: 65, T: 8 }).flopsPerToken - costs(moe, { vocab: 65, T: 8 }).flopsPerToken).toBe(oneExpert + 2 * 16);
    const last = moe.layers[2]!;
    if (last.kind !== "residual" || last.body[1]?.kind !== "feed_forward") throw new Error("moe.yaml's third layer is a residual around the GELU experts");
    // The router's product (2 · 16 · 3) and softmax (3 per expert), one expert, the weighted sum.
    expect(nodeDef("feed_forward").cost(last.body[1], { vocab: 65, T: 8 }).flops).toBe(2 * 16 * 3 + 3 * 3 + oneExpert + 2 * 16);
    // inspect says how many a token runs, and names the mixture in the kind column.
    const report = inspectReport(loadSpec("test/parity/specs/moe.yaml", { cwd: PROJECT_ROOT }), moe, 65, 4);
    expect(report).toContain(`active per token:      ${(total - 2 * 2 * swiglu - 2 * gelu).toLocaleString("en-US")} (the experts a token runs, the router's top_k)`);
    expect(report).toMatch(/ffwd\s+feed_forward, 2 of 4 experts/);
    expect(inspectReport(loadSpec("specs/11-gpt.yaml", { cwd: PROJECT_ROOT }), ir("specs/11-gpt.yaml"), 65, 4)).not.toContain("active per token");
  });

  it("hashes top_k's and aux_loss's defaults written out as the model without them", () => {
    const hash = (keys: string): string => {
      const layers = `  layers:\n    - kind: token_embedding\n    - kind: feed_forward\n      experts: 4\n${keys}    - kind: linear\n      out: vocab\n`;
      const dir = tempFiles({ "a.yaml": `name: t\nmodel:\n  block_size: 8\n  n_embd: 16\n${layers}` });
      return lowerSpec(loadSpec(join(dir, "a.yaml"))).modelHash;
    };
    const plain = hash("");
    expect(hash("      top_k: 2\n      aux_loss: 0\n")).toBe(plain);
    expect(hash("      top_k: 1\n")).not.toBe(plain);
    expect(hash("      aux_loss: 0.01\n")).not.toBe(plain);
  });

  it("scales the vocabulary-sized tables with the vocabulary", () => {
    const gpt = ir("specs/11-gpt.yaml");
    // token embedding (V × 384) and lm_head (384 × V + V) grow with V
    expect(countParams(gpt, 50_257) - countParams(gpt, 65)).toBe((50_257 - 65) * (384 + 384 + 1));
  });
});

describe("shared weights and skips", () => {
  it("counts a shared repeat's weights once and its FLOPs per application, and names them under blocks.0", () => {
    const shared = ir("test/parity/specs/shared.yaml");
    const unshared = ir("test/parity/specs/shared.yaml", ["model.layers.1.shared=false"]);
    const block = countParams(unshared, 65) - countParams(shared, 65);
    expect(block).toBeGreaterThan(0);
    // three copies' weights without sharing, one with: two blocks' worth apart
    const perBlock = block / 2;
    expect(countParams(shared, 65)).toBe(countParams(unshared, 65) - 2 * perBlock);
    expect(costs(shared, { vocab: 65, T: 8 }).flopsPerToken).toBe(costs(unshared, { vocab: 65, T: 8 }).flopsPerToken);
    expect(namedParams(shared).filter((p) => p.name.startsWith("blocks.")).every((p) => p.name.startsWith("blocks.0."))).toBe(true);
    expect(shared.residuals).toBe(6);
  });

  it("gives a learned add one weight and a save none", () => {
    const skips = ir("test/parity/specs/skips.yaml");
    expect(namedParams(skips).filter((p) => /^add\d/.test(p.name))).toEqual([
      { name: "add1.weight", shape: [1] },
      { name: "add2.weight", shape: [1] },
    ]);
  });
});

describe("parameter names", () => {
  it("names nested parameters with stable dotted paths", () => {
    const names = namedParams(ir("specs/11-gpt.yaml")).map((p) => p.name);
    expect(names.slice(0, 5)).toEqual([
      "token_embedding.weight",
      "position_embedding.weight",
      "blocks.0.ln1.gamma",
      "blocks.0.ln1.beta",
      "blocks.0.attn.heads.0.key.weight",
    ]);
    expect(names).toContain("blocks.0.attn.heads.1.query.weight");
    expect(names).toContain("blocks.5.ffwd.proj.bias");
    expect(names.slice(-4)).toEqual(["ln_f.gamma", "ln_f.beta", "lm_head.weight", "lm_head.bias"]);
    expect(new Set(names).size).toBe(names.length);
  });

  it("numbers default names that repeat in one scope and keeps explicit ones", () => {
    const dir = tempFiles({
      "a.yaml": `name: t\nmodel:\n  block_size: 4\n  n_embd: 8\n  layers:\n    - kind: token_embedding\n    - kind: layer_norm\n    - kind: layer_norm\n    - kind: layer_norm\n      name: final\n    - kind: linear\n      out: vocab\n`,
    });
    const names = namedParams(lowerSpec(loadSpec("a.yaml", { cwd: dir }))).map((p) => p.name);
    expect(names).toEqual(["token_embedding.weight", "ln1.gamma", "ln1.beta", "ln2.gamma", "ln2.beta", "final.gamma", "final.beta", "lm_head.weight", "lm_head.bias"]);
  });
});

describe("shape inference", () => {
  it("infers each layer's output width", () => {
    const model = ir("specs/05-multi-head.yaml");
    const widths = model.layers.map((n) => nodeDef(n.kind).outWidth(n as never));
    expect(widths).toEqual([32, 32, 32, "vocab"]);
  });

  it("derives head_size from the input width and the number of heads", () => {
    const attn = ir("specs/11-gpt.yaml").layers[2];
    expect(attn?.kind).toBe("repeat");
    if (attn?.kind !== "repeat") return;
    const residual = attn.block.body[0];
    expect(residual?.kind === "residual" && residual.body[1]).toMatchObject({ kind: "multi_head_attention", heads: 6, headSize: 64 });
  });

  it("concatenated heads without a projection are heads × head_size wide", () => {
    const model = ir("specs/05-multi-head.yaml", ["model.layers.2.head_size=4"]);
    expect(nodeDef("multi_head_attention").outWidth(model.layers[2] as never)).toBe(16);
  });

  it("summarizes layers with their shapes, like Keras' summary()", () => {
    const rows = summaryRows(ir("specs/11-gpt.yaml"), 65);
    expect(rows[0]).toMatchObject({ path: "token_embedding", output: "(B, T, 384)", params: 24_960 });
    expect(rows.at(-1)).toMatchObject({ path: "lm_head", output: "(B, T, vocab)", params: 25_025 });
    expect(rows.find((r) => r.path === "blocks")).toMatchObject({ kind: "repeat ×6", params: 6 * 1_773_312 });
    expect(rows.some((r) => r.note !== undefined)).toBe(false);
    expect(rows.find((r) => r.kind === "same as blocks.0")).toMatchObject({ path: "blocks.1…5", params: 5 * 1_773_312 });
    // one copy after the first is named alone, not as a range of one
    const two = summaryRows(ir("specs/11-gpt.yaml", ["model.layers.2.times=2"]), 65);
    expect(two.find((r) => r.kind === "same as blocks.0")).toMatchObject({ path: "blocks.1", params: 1_773_312 });
  });

  it("says why a tied head counts no parameters of its own", () => {
    const rows = summaryRows(ir("specs/15-modern.yaml"), 65);
    expect(rows.at(-1)).toMatchObject({ path: "lm_head", params: 0, note: "weight is token_embedding's table, counted there" });
    expect(rows.filter((r) => r.note !== undefined)).toHaveLength(1);
  });
});

describe("costs", () => {
  it("counts two FLOPs per multiply-add of the bigram-free matmuls", () => {
    // token embedding (no FLOPs) + position add (C) + linear head (2·C·V + V) + loss (4V)
    const c = costs(ir("specs/02-position.yaml"), { vocab: 65, T: 8 });
    expect(c.flopsPerToken).toBe(32 + 2 * 32 * 65 + 65 + 4 * 65);
  });

  it("activation memory grows linearly with the batch", () => {
    const model = ir("specs/12-baby-gpt.yaml");
    expect(activationBytes(model, 65, 24)).toBe(2 * activationBytes(model, 65, 12));
  });

  it("puts the lecture GPT near 23.8 MFLOPs per token forward", () => {
    const c = costs(ir("specs/11-gpt.yaml"), { vocab: 65, T: 256 });
    // 2 FLOPs per weight of the 6 blocks (2 · 10.6M ≈ 21.3M) + attention scores and sums (6 · 4·T·C ≈ 2.4M)
    // + the head and elementwise work: about 23.8M; a formula off by a layer would leave this band.
    expect(c.flopsPerToken).toBeGreaterThan(20e6);
    expect(c.flopsPerToken).toBeLessThan(28e6);
  });
});

// One table per emitter: given an IR node, want its field declaration and its forward expression.
import { describe, expect, it } from "vitest";
import { EmitContext } from "../../compiler/emit/context.js";
import { emitForward, emitMembers } from "../../compiler/emit/layers/index.js";
import type { ModelIR } from "../../compiler/ir/model.js";
import { NODE_DEFS, type IrNode } from "../../compiler/ir/nodes/index.js";

const model: ModelIR = {
  kind: "model",
  name: "t",
  className: "TModel",
  description: "",
  files: [{ path: "specs/t.yaml", sha256: "0".repeat(64) }],
  blockSize: 8,
  nEmbd: 32,
  init: "torch",
  tieEmbeddings: false,
  layers: [],
  modelHash: "0".repeat(64),
};

interface Case {
  readonly given: IrNode;
  readonly members: readonly string[];
  readonly forward: string;
  /** A helper class the emitter must declare. */
  readonly declares?: string;
}

const cases: Record<string, Case> = {
  token_embedding: {
    given: { kind: "token_embedding", name: "token_embedding", dim: 32 },
    members: ['tokenEmbedding: Embedding = this.module("token_embedding", new Embedding(this.vocabSize, config.nEmbd))'],
    forward: "this.tokenEmbedding.forward(x)",
  },
  "token_embedding of vocab width (bigram)": {
    given: { kind: "token_embedding", name: "token_embedding", dim: "vocab" },
    members: ['tokenEmbedding: Embedding = this.module("token_embedding", new Embedding(this.vocabSize, this.vocabSize))'],
    forward: "this.tokenEmbedding.forward(x)",
  },
  "position_embedding learned": {
    given: { kind: "position_embedding", name: "position_embedding", encoding: "learned", width: 32, blockSize: 8 },
    members: ['positionEmbedding: Embedding = this.module("position_embedding", new Embedding(config.blockSize, config.nEmbd))'],
    forward: "tf.add(x, this.positionEmbedding.rows(x.shape[1], cache?.past))",
  },
  "position_embedding sinusoidal": {
    given: { kind: "position_embedding", name: "pos", encoding: "sinusoidal", width: 32, blockSize: 8 },
    members: ['pos: tf.Tensor2D = this.buffer("pos", sinusoidalTable(config.blockSize, config.nEmbd))'],
    forward: "tf.add(x, tf.slice(this.pos, [cache?.past ?? 0, 0], [x.shape[1], -1]))",
  },
  attention_head: {
    given: { kind: "attention_head", name: "head", inWidth: 32, headSize: 16, scale: true, dropout: 0 },
    members: ['head: Head = this.module("head", new Head({ nIn: config.nEmbd, headSize: 16 }))'],
    forward: "this.head.forward(x, cache)",
    declares: "class Head",
  },
  "attention_head with dropout": {
    given: { kind: "attention_head", name: "head", inWidth: 32, headSize: 16, scale: true, dropout: 0.1 },
    members: ['head: Head = this.module("head", new Head({ nIn: config.nEmbd, headSize: 16, dropout: 0.1 }))'],
    forward: "this.head.forward(x, cache)",
    declares: "wei = dropout(wei, this.dropoutRate, this.training)",
  },
  multi_head_attention: {
    given: { kind: "multi_head_attention", name: "attn", inWidth: 32, heads: 4, kvHeads: 4, layout: "heads", qkvBias: false, headSize: 8, projection: true, scale: true, projectionBias: true, rope: undefined, qkNorm: undefined, dropout: 0 },
    members: ['attn: MultiHeadAttention = this.module("attn", new MultiHeadAttention({ nIn: config.nEmbd, heads: 4, headSize: 8 }))'],
    forward: "this.attn.forward(x, cache)",
    declares: "this.proj = this.module(\"proj\", new Linear(o.heads * o.headSize, o.nIn))",
  },
  "multi_head_attention without projection": {
    given: { kind: "multi_head_attention", name: "attn", inWidth: 32, heads: 4, kvHeads: 4, layout: "heads", qkvBias: false, headSize: 8, projection: false, scale: true, projectionBias: true, rope: undefined, qkNorm: undefined, dropout: 0 },
    members: ['attn: MultiHeadAttention = this.module("attn", new MultiHeadAttention({ nIn: config.nEmbd, heads: 4, headSize: 8 }))'],
    forward: "this.attn.forward(x, cache)",
    declares: "return multiHeadCausalAttention(x, this.heads, this.scale, { cache }); // (B, T, nh*hs)",
  },
  "multi_head_attention, grouped-query with rotary positions and qk-norm": {
    given: { kind: "multi_head_attention", name: "attn", inWidth: 32, heads: 4, headSize: 8, kvHeads: 2, layout: "fused", qkvBias: false, projection: true, projectionBias: false, rope: { base: 10000, dims: 8 }, qkNorm: "rms_norm", scale: true, dropout: 0 },
    members: ['attn: CausalSelfAttention = this.module("attn", new CausalSelfAttention({ nIn: config.nEmbd, heads: 4, kvHeads: 2, headSize: 8 }))'],
    forward: "this.attn.forward(x, cache)",
    declares: "q = rope(q, this.cos, this.sin, cache?.past); // (B, nh, T, hs)",
  },
  "multi_head_attention with biases in the lecture's layout": {
    given: { kind: "multi_head_attention", name: "attn", inWidth: 32, heads: 4, headSize: 8, kvHeads: 4, layout: "heads", qkvBias: true, projection: true, projectionBias: true, rope: undefined, qkNorm: undefined, scale: true, dropout: 0 },
    members: ['attn: MultiHeadAttention = this.module("attn", new MultiHeadAttention({ nIn: config.nEmbd, heads: 4, headSize: 8 }))'],
    forward: "this.attn.forward(x, cache)",
    declares: 'this.key = this.module("key", new Linear(o.nIn, o.headSize));',
  },
  "feed_forward SwiGLU without biases": {
    given: { kind: "feed_forward", name: "ffwd", width: 32, hidden: 64, activation: "silu", gated: true, bias: false, dropout: 0 },
    members: ['ffwd: FeedForward = this.module("ffwd", new FeedForward({ nIn: config.nEmbd, hidden: 64 }))'],
    forward: "this.ffwd.forward(x)",
    declares: 'const h = gatedActivation(this.gate.forward(x), this.fc.forward(x), "silu"); // (B, T, hidden)',
  },
  "feed_forward relu2": {
    given: { kind: "feed_forward", name: "ffwd", width: 32, hidden: 64, activation: "relu2", gated: false, bias: true, dropout: 0 },
    members: ['ffwd: FeedForward = this.module("ffwd", new FeedForward({ nIn: config.nEmbd, hidden: 64 }))'],
    forward: "this.ffwd.forward(x)",
    declares: "const h = relu2(this.fc.forward(x)); // (B, T, hidden)",
  },
  "linear tied to the token table": {
    given: { kind: "linear", name: "lm_head", inWidth: 32, outWidth: "vocab", bias: false, tiedTo: "token_embedding" },
    members: ['lmHead: Linear = this.module("lm_head", new Linear(config.nEmbd, this.vocabSize, false, this.tokenEmbedding.weight))'],
    forward: "this.lmHead.forward(x)",
  },
  feed_forward: {
    given: { kind: "feed_forward", name: "ffwd", width: 32, hidden: 128, activation: "relu", gated: false, bias: true, dropout: 0 },
    members: ['ffwd: FeedForward = this.module("ffwd", new FeedForward({ nIn: config.nEmbd, hidden: 128 }))'],
    forward: "this.ffwd.forward(x)",
    declares: "const h = tf.relu(this.fc.forward(x)); // (B, T, hidden)",
  },
  "feed_forward gelu": {
    given: { kind: "feed_forward", name: "mlp", width: 32, hidden: 64, activation: "gelu", gated: false, bias: true, dropout: 0.2 },
    members: ['mlp: FeedForward = this.module("mlp", new FeedForward({ nIn: config.nEmbd, hidden: 64, dropout: 0.2 }))'],
    forward: "this.mlp.forward(x)",
    declares: "const h = gelu(this.fc.forward(x)); // (B, T, hidden)",
  },
  layer_norm: {
    given: { kind: "layer_norm", name: "ln_f", width: 32, eps: 1e-5, affine: true },
    members: ['lnF: LayerNorm = this.module("ln_f", new LayerNorm(config.nEmbd, 1e-5))'],
    forward: "this.lnF.forward(x)",
    declares: 'this.gamma = this.param("gamma", tf.ones([dim]));',
  },
  "layer_norm without gamma and beta": {
    given: { kind: "layer_norm", name: "ln", width: 32, eps: 1e-6, affine: false },
    members: ['ln: LayerNorm = this.module("ln", new LayerNorm(config.nEmbd, 1e-6))'],
    forward: "this.ln.forward(x)",
    declares: "return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.eps))); // (B, T, C)",
  },
  rms_norm: {
    given: { kind: "rms_norm", name: "norm", width: 32, eps: 1e-5, scale: true },
    members: ['norm: RMSNorm = this.module("norm", new RMSNorm(config.nEmbd, 1e-5))'],
    forward: "this.norm.forward(x)",
    declares: "return rmsNorm(x, this.gamma, this.eps); // (B, T, C)",
  },
  "rms_norm without a gain": {
    given: { kind: "rms_norm", name: "norm", width: 32, eps: 1e-6, scale: false },
    members: ['norm: RMSNorm = this.module("norm", new RMSNorm(1e-6))'],
    forward: "this.norm.forward(x)",
    declares: "return rmsNorm(x, undefined, this.eps); // (B, T, C)",
  },
  dropout: { given: { kind: "dropout", width: 32, rate: 0.25 }, members: [], forward: "dropout(x, 0.25, this.training)" },
  linear: {
    given: { kind: "linear", name: "lm_head", inWidth: 32, outWidth: "vocab", bias: true },
    members: ['lmHead: Linear = this.module("lm_head", new Linear(config.nEmbd, this.vocabSize))'],
    forward: "this.lmHead.forward(x)",
  },
  "linear without bias": {
    given: { kind: "linear", name: "proj", inWidth: 32, outWidth: 16, bias: false },
    members: ['proj: Linear = this.module("proj", new Linear(config.nEmbd, 16, false))'],
    forward: "this.proj.forward(x)",
  },
  residual: {
    given: {
      kind: "residual",
      width: 32,
      body: [
        { kind: "layer_norm", name: "ln1", width: 32, eps: 1e-5, affine: true },
        { kind: "feed_forward", name: "ffwd", width: 32, hidden: 128, activation: "relu", gated: false, bias: true, dropout: 0 },
      ],
    },
    members: ['ln1: LayerNorm = this.module("ln1", new LayerNorm(config.nEmbd, 1e-5))', 'ffwd: FeedForward = this.module("ffwd", new FeedForward({ nIn: config.nEmbd, hidden: 128 }))'],
    forward: "tf.add(x, this.ffwd.forward(this.ln1.forward(x)))",
    declares: "class FeedForward extends Module",
  },
  block: {
    given: { kind: "block", name: "block", className: "Block", inWidth: 32, outWidth: 32, body: [{ kind: "layer_norm", name: "ln", width: 32, eps: 1e-5, affine: true }] },
    members: ['block: Block = this.module("block", new Block())'],
    forward: "this.block.forward(x)",
    declares: "class Block extends Module",
  },
  repeat: {
    given: {
      kind: "repeat",
      name: "blocks",
      times: 3,
      width: 32,
      block: { kind: "block", name: "block", className: "Block", inWidth: 32, outWidth: 32, body: [{ kind: "layer_norm", name: "ln", width: 32, eps: 1e-5, affine: true }] },
    },
    members: ['blocks: Block[] = this.modules("blocks", Array.from({ length: 3 }, () => new Block()))'],
    forward: "for (const block of this.blocks) x = block.forward(x); // (B, T, C)",
    declares: "class Block extends Module",
  },
};

describe("layer emitters", () => {
  it.each(Object.entries(cases))("%s", (_name, c) => {
    const ctx = new EmitContext(model);
    const members = emitMembers(c.given, ctx, "model").map((m) => `${m.property}: ${m.type} = ${m.init}`);
    expect(members).toEqual(c.members);
    const step = emitForward(c.given, "x", ctx, "model");
    expect(step.kind === "expr" ? step.expr : step.lines.join("\n")).toBe(c.forward);
    if (c.declares) {
      const { Project } = require("ts-morph") as typeof import("ts-morph");
      const file = new Project({ useInMemoryFileSystem: true }).createSourceFile("x.ts");
      for (const cls of ctx.classes()) file.addClass(cls);
      expect(file.getFullText()).toContain(c.declares);
    } else {
      expect(ctx.classes()).toEqual([]);
    }
  });

  it("covers every node kind", () => {
    const kinds = new Set(Object.values(cases).map((c) => c.given.kind));
    expect([...kinds].sort()).toEqual(Object.keys(NODE_DEFS).sort());
  });

  it("emits nothing for dropout at rate 0", () => {
    const step = emitForward({ kind: "dropout", width: 32, rate: 0 }, "x", new EmitContext(model), "model");
    expect(step).toEqual({ kind: "stmts", lines: [] });
  });

  it("gives a multi-head layer's heads their projections and no forward; the layer's forward calls the op, its math above", () => {
    const ctx = new EmitContext(model);
    emitMembers({ kind: "multi_head_attention", name: "attn", inWidth: 32, heads: 4, kvHeads: 4, layout: "heads", qkvBias: false, headSize: 8, projection: true, scale: true, projectionBias: true, rope: undefined, qkNorm: undefined, dropout: 0.1 }, ctx, "model");
    const [head, mha] = ctx.classes();
    expect(head?.name).toBe("Head");
    expect(head?.methods ?? []).toEqual([]);
    expect((head?.properties ?? []).map((p) => p.name)).toEqual(["key", "query", "value"]);
    expect(mha?.name).toBe("MultiHeadAttention");
    const forward = (mha?.methods ?? []).find((m) => m.name === "forward");
    const body = (forward?.statements as string[]).join("\n");
    expect(body).toContain("const out = multiHeadCausalAttention(x, this.heads, this.scale, { dropout: this.dropoutRate, training: this.training, cache }); // (B, T, nh*hs)");
    expect(body).toContain("(runtime/ops/attention.ts");
    expect(body).toMatch(/wei = softmax\(causalMask\(q·kᵀ · scale\)\) +\(B, T, T\)/);
    expect(body).toMatch(/wei = dropout\(wei\) +\(B, T, T\), in training/);
  });

  it("names a second variant of a helper class Head2", () => {
    const ctx = new EmitContext(model);
    emitMembers({ kind: "attention_head", name: "a", inWidth: 32, headSize: 8, scale: true, dropout: 0 }, ctx, "model");
    const [second] = emitMembers({ kind: "attention_head", name: "b", inWidth: 32, headSize: 8, scale: false, dropout: 0 }, ctx, "model");
    expect(second?.type).toBe("Head2");
    expect(ctx.classes().map((c) => c.name)).toEqual(["Head", "Head2"]);
  });
});

// One table per PyTorch emitter: given an IR node, want its __init__ statement, its forward expression and
// the helper class or function it declares. The table is keyed by node kind, so a kind without rows here
// fails to type-check.
import { describe, expect, it } from "vitest";
import { TorchContext } from "../../compiler/emit-torch/context.js";
import { memberLine } from "../../compiler/emit-torch/layer-emitter.js";
import { emitForward, emitMembers } from "../../compiler/emit-torch/layers/index.js";
import type { ModelIR } from "../../compiler/ir/model.js";
import type { NodeKind, NodeOf } from "../../compiler/ir/nodes/index.js";

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

interface Case<K extends NodeKind> {
  readonly title: string;
  readonly given: NodeOf<K>;
  readonly init: readonly string[];
  readonly forward: string;
  /** A line of a helper class or function the emitter must declare. */
  readonly declares?: string;
}

const ln = (name: string): NodeOf<"layer_norm"> => ({ kind: "layer_norm", name, width: 32, eps: 1e-5, affine: true });
const block: NodeOf<"block"> = { kind: "block", name: "block", className: "Block", inWidth: 32, outWidth: 32, body: [ln("ln")] };

const cases: { readonly [K in NodeKind]: readonly Case<K>[] } = {
  token_embedding: [
    { title: "n_embd wide", given: { kind: "token_embedding", name: "token_embedding", dim: 32 }, init: ["self.token_embedding = nn.Embedding(config.vocab_size, config.n_embd)"], forward: "self.token_embedding(x)" },
    { title: "vocab wide (bigram)", given: { kind: "token_embedding", name: "token_embedding", dim: "vocab" }, init: ["self.token_embedding = nn.Embedding(config.vocab_size, config.vocab_size)"], forward: "self.token_embedding(x)" },
  ],
  position_embedding: [
    {
      title: "learned",
      given: { kind: "position_embedding", name: "position_embedding", encoding: "learned", width: 32, blockSize: 8 },
      init: ["self.position_embedding = nn.Embedding(config.block_size, config.n_embd)"],
      forward: "x + self.position_embedding(torch.arange(x.shape[1], device=x.device))",
    },
    {
      title: "sinusoidal",
      given: { kind: "position_embedding", name: "pos", encoding: "sinusoidal", width: 32, blockSize: 8 },
      init: ['self.register_buffer("pos", sinusoidal_table(config.block_size, config.n_embd), persistent=False)'],
      forward: "x + self.pos[: x.shape[1]]",
      declares: "def sinusoidal_table(positions: int, width: int) -> torch.Tensor:",
    },
  ],
  attention_head: [
    {
      title: "scaled",
      given: { kind: "attention_head", name: "head", inWidth: 32, headSize: 16, scale: true, dropout: 0 },
      init: ["self.head = Head(config.n_embd, 16)"],
      forward: "self.head(x)",
      declares: "return causal_self_attention(x, [self], scale=True)  # (B, T, hs)",
    },
    {
      title: "with dropout",
      given: { kind: "attention_head", name: "head", inWidth: 32, headSize: 16, scale: true, dropout: 0.1 },
      init: ["self.head = Head(config.n_embd, 16, 0.1)"],
      forward: "self.head(x)",
      declares: "return causal_self_attention(x, [self], scale=True, dropout=self.dropout, training=self.training)  # (B, T, hs)",
    },
  ],
  multi_head_attention: [
    {
      title: "projected",
      given: { kind: "multi_head_attention", name: "attn", inWidth: 32, heads: 4, kvHeads: 4, layout: "heads", qkvBias: false, headSize: 8, projection: true, scale: true, projectionBias: true, rope: undefined, qkNorm: undefined, dropout: 0 },
      init: ["self.attn = MultiHeadAttention(config.n_embd, 4, 8)"],
      forward: "self.attn(x)",
      declares: "self.proj = nn.Linear(heads * head_size, n_in)",
    },
    {
      title: "without projection, unscaled",
      given: { kind: "multi_head_attention", name: "attn", inWidth: 32, heads: 4, kvHeads: 4, layout: "heads", qkvBias: false, headSize: 8, projection: false, scale: false, projectionBias: true, rope: undefined, qkNorm: undefined, dropout: 0 },
      init: ["self.attn = MultiHeadAttention(config.n_embd, 4, 8)"],
      forward: "self.attn(x)",
      declares: "return causal_self_attention(x, self.heads, scale=False)  # (B, T, nh*hs)",
    },
    {
      title: "grouped-query with rotary positions and layer-normed q and k",
      given: { kind: "multi_head_attention", name: "attn", inWidth: 32, heads: 4, kvHeads: 2, layout: "fused", qkvBias: false, headSize: 8, projection: true, scale: true, projectionBias: false, rope: { base: 500, dims: 4 }, qkNorm: "layer_norm", dropout: 0 },
      init: ["self.attn = CausalSelfAttention(config.n_embd, 4, 2, 8)"],
      forward: "self.attn(x)",
      declares: "cos, sin = rotary_tables(8, 4, 500.0)  # (T, 2) each",
    },
  ],
  feed_forward: [
    {
      title: "relu",
      given: { kind: "feed_forward", name: "ffwd", width: 32, hidden: 128, activation: "relu", gated: false, bias: true, dropout: 0 },
      init: ["self.ffwd = FeedForward(config.n_embd, 128)"],
      forward: "self.ffwd(x)",
      declares: "h = F.relu(self.fc(x))  # (B, T, hidden)",
    },
    {
      title: "gelu with dropout",
      given: { kind: "feed_forward", name: "mlp", width: 32, hidden: 64, activation: "gelu", gated: false, bias: true, dropout: 0.2 },
      init: ["self.mlp = FeedForward(config.n_embd, 64, 0.2)"],
      forward: "self.mlp(x)",
      declares: "return F.dropout(self.proj(h), self.dropout, self.training)  # (B, T, C)",
    },
    {
      title: "SwiGLU without biases",
      given: { kind: "feed_forward", name: "ffwd", width: 32, hidden: 64, activation: "silu", gated: true, bias: false, dropout: 0 },
      init: ["self.ffwd = FeedForward(config.n_embd, 64)"],
      forward: "self.ffwd(x)",
      declares: "h = F.silu(self.gate(x)) * self.fc(x)  # (B, T, hidden)",
    },
    {
      title: "relu2",
      given: { kind: "feed_forward", name: "ffwd", width: 32, hidden: 64, activation: "relu2", gated: false, bias: true, dropout: 0 },
      init: ["self.ffwd = FeedForward(config.n_embd, 64)"],
      forward: "self.ffwd(x)",
      declares: "h = torch.square(F.relu(self.fc(x)))  # (B, T, hidden)",
    },
  ],
  layer_norm: [
    { title: "affine", given: ln("ln_f"), init: ["self.ln_f = LayerNorm(config.n_embd, 1e-5)"], forward: "self.ln_f(x)", declares: "self.gamma = nn.Parameter(torch.ones(dim))  # per-feature scale, starts at 1" },
    {
      title: "without gamma and beta",
      given: { kind: "layer_norm", name: "ln", width: 32, eps: 1e-6, affine: false },
      init: ["self.ln = LayerNorm(1e-6)"],
      forward: "self.ln(x)",
      declares: "return F.layer_norm(x, x.shape[-1:], eps=self.eps)  # (B, T, C)",
    },
  ],
  rms_norm: [
    { title: "with a gain", given: { kind: "rms_norm", name: "norm", width: 32, eps: 1e-5, scale: true }, init: ["self.norm = RMSNorm(config.n_embd, 1e-5)"], forward: "self.norm(x)", declares: "self.gamma = nn.Parameter(torch.ones(dim))  # per-feature gain, starts at 1" },
    { title: "parameter-free", given: { kind: "rms_norm", name: "norm", width: 32, eps: 1e-6, scale: false }, init: ["self.norm = RMSNorm(1e-6)"], forward: "self.norm(x)", declares: "x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)  # (B, T, C)" },
  ],
  dropout: [{ title: "rate 0.25", given: { kind: "dropout", width: 32, rate: 0.25 }, init: [], forward: "F.dropout(x, 0.25, self.training)" }],
  linear: [
    { title: "the head", given: { kind: "linear", name: "lm_head", inWidth: 32, outWidth: "vocab", bias: true }, init: ["self.lm_head = nn.Linear(config.n_embd, config.vocab_size)"], forward: "self.lm_head(x)" },
    { title: "without bias", given: { kind: "linear", name: "proj", inWidth: 32, outWidth: 16, bias: false }, init: ["self.proj = nn.Linear(config.n_embd, 16, bias=False)"], forward: "self.proj(x)" },
    {
      title: "tied to the token table",
      given: { kind: "linear", name: "lm_head", inWidth: 32, outWidth: "vocab", bias: true, tiedTo: "token_embedding" },
      init: ["self.lm_head = TiedHead(self.token_embedding, bias=True)"],
      forward: "self.lm_head(x)",
      declares: "class TiedHead(nn.Module):",
    },
  ],
  residual: [
    {
      title: "pre-norm feed-forward",
      given: { kind: "residual", width: 32, body: [ln("ln1"), { kind: "feed_forward", name: "ffwd", width: 32, hidden: 128, activation: "relu", gated: false, bias: true, dropout: 0 }] },
      init: ["self.ln1 = LayerNorm(config.n_embd, 1e-5)", "self.ffwd = FeedForward(config.n_embd, 128)"],
      forward: "x + self.ffwd(self.ln1(x))",
      declares: "class FeedForward(nn.Module):",
    },
    {
      title: "around a repeat",
      given: { kind: "residual", width: 32, body: [{ kind: "repeat", name: "blocks", times: 2, width: 32, block }] },
      init: ["self.blocks = nn.ModuleList([Block(config) for _ in range(2)])"],
      forward: "h = x\nfor block in self.blocks:\n    h = block(h)  # (B, T, C)\nx = x + h  # (B, T, C): x + f(x)",
      declares: "class Block(nn.Module):",
    },
  ],
  block: [{ title: "its own class", given: block, init: ["self.block = Block(config)"], forward: "self.block(x)", declares: "self.ln = LayerNorm(config.n_embd, 1e-5)" }],
  repeat: [
    {
      title: "three copies",
      given: { kind: "repeat", name: "blocks", times: 3, width: 32, block },
      init: ["self.blocks = nn.ModuleList([Block(config) for _ in range(3)])"],
      forward: "for block in self.blocks:\n    x = block(x)  # (B, T, C)",
      declares: "def __init__(self, config: ModelConfig):",
    },
  ],
};

/** Every declaration the context holds, as text, to search for a line. */
function declared(ctx: TorchContext): string {
  const classes = ctx.classes().map((c) => [`class ${c.name}(nn.Module):`, `def __init__(self${c.params ? `, ${c.params}` : ""}):`, ...c.init, ...(c.forward ?? [])].join("\n"));
  const helpers = ctx.helpers().map((h) => (h === "sinusoidal_table" ? "def sinusoidal_table(positions: int, width: int) -> torch.Tensor:" : h === "tied_head" ? "class TiedHead(nn.Module):" : `def ${h}(`));
  return [...classes, ...helpers].join("\n");
}

const rows = Object.values(cases).flatMap((list) => list.map((c) => [`${c.given.kind}: ${c.title}`, c] as const));

describe("PyTorch layer emitters", () => {
  it.each(rows)("%s", (_title, c) => {
    const ctx = new TorchContext(model);
    expect(emitMembers(c.given, ctx, "model").map(memberLine)).toEqual(c.init);
    const step = emitForward(c.given, "x", ctx, "model");
    expect(step.kind === "expr" ? step.expr : step.lines.join("\n")).toBe(c.forward);
    if (c.declares) expect(declared(ctx)).toContain(c.declares);
    else expect(ctx.classes()).toEqual([]);
  });

  it("emits nothing for dropout at rate 0", () => {
    expect(emitForward({ kind: "dropout", width: 32, rate: 0 }, "x", new TorchContext(model), "model")).toEqual({ kind: "stmts", lines: [] });
  });

  it("gives a standalone head and the heads of a multi-head layer classes of their own", () => {
    const ctx = new TorchContext(model);
    emitMembers({ kind: "attention_head", name: "a", inWidth: 32, headSize: 8, scale: true, dropout: 0 }, ctx, "model");
    emitMembers({ kind: "multi_head_attention", name: "b", inWidth: 32, heads: 2, kvHeads: 2, layout: "heads", qkvBias: false, headSize: 8, projection: true, scale: true, projectionBias: true, rope: undefined, qkNorm: undefined, dropout: 0 }, ctx, "model");
    expect(ctx.classes().map((c) => [c.name, c.forward !== undefined])).toEqual([
      ["Head", true],
      ["Head2", false],
      ["MultiHeadAttention", true],
    ]);
  });
});

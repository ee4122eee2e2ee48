// One table per builder: given an IR node, what its field and its forward become in each target, and a
// line of the helper class it declares. The table is keyed by node kind, so a kind without rows here fails
// to type-check: a new kind is tested in both targets by construction. Every file the rows produce is
// parsed (TypeScript's parser; python3 -m py_compile where Python is installed).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import type { ModelIR } from "../../compiler/ir/model.js";
import type { NodeKind, NodeOf } from "../../compiler/ir/nodes/index.js";
import { emitTorchModelFile } from "../../compiler/serialize/python/model-file.js";
import { emitModelFile, RUNTIME_VALUES } from "../../compiler/serialize/typescript/model-file.js";
import * as runtimeNn from "../../runtime/nn/index.js";
import { ModelContext } from "../../compiler/tree/context.js";
import { v, type ModuleFile, type Stmt } from "../../compiler/tree/nodes.js";

const model: ModelIR = {
  kind: "model",
  name: "t",
  className: "TModel",
  description: "",
  files: [{ path: "specs/t.yaml", sha256: "0".repeat(64) }],
  blockSize: 8,
  nEmbd: 32,
  init: "torch",
  residuals: 0,
  logitSoftcap: undefined,
  tieEmbeddings: false,
  layers: [],
  modelHash: "0".repeat(64),
  warnings: [],
};

interface Want {
  /** The field's construction, and lines of the helper class it declares, if any. */
  readonly init: readonly string[];
  /** The forward step applied to x. */
  readonly forward: string;
}

interface Case<K extends NodeKind> {
  readonly title: string;
  readonly given: NodeOf<K>;
  readonly ts: Want;
  readonly py: Want;
}

const ln = (name: string): NodeOf<"layer_norm"> => ({ kind: "layer_norm", name, width: 32, eps: 1e-5, affine: true });
const block: NodeOf<"block"> = { kind: "block", name: "block", className: "Block", inWidth: 32, outWidth: 32, body: [ln("ln")] };
const mha = (over: Partial<NodeOf<"multi_head_attention">>): NodeOf<"multi_head_attention"> => ({
  kind: "multi_head_attention",
  name: "attn",
  inWidth: 32,
  heads: 4,
  kvHeads: 4,
  layout: "heads",
  qkvBias: false,
  headSize: 8,
  projection: true,
  scale: true,
  projectionBias: true,
  rope: undefined,
  qkNorm: undefined,
  dropout: 0,
  window: undefined,
  alibi: false,
  softcap: undefined,
  zeroInit: false,
  ...over,
});
const ffwd = (over: Partial<NodeOf<"feed_forward">>): NodeOf<"feed_forward"> => ({ kind: "feed_forward", name: "ffwd", width: 32, hidden: 128, activation: "relu", gated: false, bias: true, dropout: 0, zeroInit: false, ...over });

const cases: { readonly [K in NodeKind]: readonly Case<K>[] } = {
  token_embedding: [
    {
      title: "n_embd wide",
      given: { kind: "token_embedding", name: "token_embedding", dim: 32, scale: undefined },
      ts: { init: ['this.tokenEmbedding = this.module("token_embedding", new Embedding(this.vocabSize, config.nEmbd));'], forward: "this.tokenEmbedding.forward(x)" },
      py: { init: ["self.token_embedding = nn.Embedding(config.vocab_size, config.n_embd)"], forward: "self.token_embedding(x)" },
    },
    {
      title: "vocab wide (bigram)",
      given: { kind: "token_embedding", name: "token_embedding", dim: "vocab", scale: undefined },
      ts: { init: ['this.tokenEmbedding = this.module("token_embedding", new Embedding(this.vocabSize, this.vocabSize));'], forward: "this.tokenEmbedding.forward(x)" },
      py: { init: ["self.token_embedding = nn.Embedding(config.vocab_size, config.vocab_size)"], forward: "self.token_embedding(x)" },
    },
    {
      title: "scaled by sqrt of its width",
      given: { kind: "token_embedding", name: "token_embedding", dim: 32, scale: "sqrt" },
      ts: { init: ["this.tokenEmbeddingScale = config.nEmbd ** 0.5;"], forward: "tf.mul(this.tokenEmbedding.forward(x), this.tokenEmbeddingScale)" },
      py: { init: ["self.token_embedding_scale = config.n_embd**0.5"], forward: "self.token_embedding(x) * self.token_embedding_scale" },
    },
  ],
  position_embedding: [
    {
      title: "learned",
      given: { kind: "position_embedding", name: "position_embedding", encoding: "learned", width: 32, blockSize: 8 },
      ts: { init: ['this.positionEmbedding = this.module("position_embedding", new Embedding(config.blockSize, config.nEmbd));'], forward: "tf.add(x, this.positionEmbedding.rows(x.shape[1], cache?.past))" },
      py: { init: ["self.position_embedding = nn.Embedding(config.block_size, config.n_embd)"], forward: "x + self.position_embedding(torch.arange(x.shape[1], device=x.device))" },
    },
    {
      title: "sinusoidal",
      given: { kind: "position_embedding", name: "pos", encoding: "sinusoidal", width: 32, blockSize: 8 },
      ts: { init: ['this.pos = this.buffer("pos", sinusoidalTable(config.blockSize, config.nEmbd));'], forward: "tf.add(x, tf.slice(this.pos, [cache?.past ?? 0, 0], [x.shape[1], -1]))" },
      py: { init: ['self.register_buffer("pos", sinusoidal_table(config.block_size, config.n_embd), persistent=False)', "def sinusoidal_table(positions: int, width: int)"], forward: "x + self.pos[: x.shape[1]]" },
    },
  ],
  attention_head: [
    {
      title: "scaled",
      given: { kind: "attention_head", name: "head", inWidth: 32, headSize: 16, scale: true, dropout: 0 },
      ts: {
        init: ['this.head = this.module("head", new Head(config.nEmbd, config.headSize));', "let wei: tf.Tensor3D = tf.mul(tf.matMul(q, k, false, true), this.scale);", "if (cache) ({ k, v } = cache.append(this, k, v));"],
        forward: "this.head.forward(x, cache)",
      },
      py: { init: ["self.head = Head(config.n_embd, config.head_size)", "wei = q @ k.transpose(-2, -1) * self.scale", "wei = causal_mask(wei)", "def causal_mask("], forward: "self.head(x)" },
    },
    {
      title: "with dropout",
      given: { kind: "attention_head", name: "head", inWidth: 32, headSize: 16, scale: true, dropout: 0.1 },
      ts: { init: ['this.head = this.module("head", new Head({ nIn: config.nEmbd, headSize: config.headSize, dropout: config.dropout }));', "wei = this.dropout.forward(wei);"], forward: "this.head.forward(x, cache)" },
      py: { init: ["self.head = Head(n_in=config.n_embd, head_size=config.head_size, dropout=config.dropout)", "self.dropout = nn.Dropout(dropout)", "wei = self.dropout(wei)"], forward: "self.head(x)" },
    },
  ],
  multi_head_attention: [
    {
      title: "the lecture's layout",
      given: mha({}),
      ts: {
        init: ['this.attn = this.module("attn", new MultiHeadAttention({ nIn: config.nEmbd, heads: config.nHead, headSize: config.headSize }));', 'this.proj = this.module("proj", new Linear(o.heads * o.headSize, o.nIn));', "const out = multiHeadCausalAttention(x, this.heads, this.scale, { cache });"],
        forward: "this.attn.forward(x, cache)",
      },
      py: { init: ["self.attn = MultiHeadAttention(\n            n_in=config.n_embd, heads=config.n_head, head_size=config.head_size\n        )", "out = causal_self_attention(x, self.heads, self.scale)", "def causal_self_attention("], forward: "self.attn(x)" },
    },
    {
      title: "without projection",
      given: mha({ projection: false }),
      ts: { init: ["return multiHeadCausalAttention(x, this.heads, this.scale, { cache }); // (B, T, nh*hs)"], forward: "this.attn.forward(x, cache)" },
      py: { init: ["return causal_self_attention(x, self.heads, self.scale)  # (B, T, nh*hs)"], forward: "self.attn(x)" },
    },
    {
      title: "with biases and dropout",
      given: mha({ qkvBias: true, dropout: 0.2 }),
      ts: {
        init: ['this.key = this.module("key", new Linear(nIn, headSize));', "const out = multiHeadCausalAttention(x, this.heads, this.scale, { dropout: this.attnDropout, cache });", "return this.residDropout.forward(this.proj.forward(out)); // (B, T, C)"],
        forward: "this.attn.forward(x, cache)",
      },
      py: { init: ["self.key = nn.Linear(n_in, head_size)", "out = causal_self_attention(x, self.heads, self.scale, dropout=self.attn_dropout)", "return self.resid_dropout(self.proj(out))  # (B, T, C)"], forward: "self.attn(x)" },
    },
    {
      title: "grouped-query with rotary positions and qk-norm",
      given: mha({ kvHeads: 2, layout: "fused", projectionBias: false, rope: { base: 10000, dims: 8 }, qkNorm: "rms_norm" }),
      ts: {
        init: ["q = rope(q, this.cos, this.sin, cache?.past); // (B, nh, T, hs)", "q = this.qNorm.forward(q);", "const y = causalAttention(q, k, v, this.scale); // (B, nh, T, hs)", "const [cos, sin] = rotaryTables(o.blockSize, o.ropeDims, o.ropeBase);"],
        forward: "this.attn.forward(x, cache)",
      },
      py: { init: ["q = apply_rotary(q, self.cos, self.sin)  # (B, nh, T, hs)", "q = self.q_norm(q)", "y = causal_attention(q, k, v, self.scale)  # (B, nh, T, hs)", "q = self.query(x).view(B, T, self.heads, self.head_size).transpose(1, 2)"], forward: "self.attn(x)" },
    },
    {
      title: "a sliding window, ALiBi and a score cap, in the lecture's layout",
      given: mha({ window: 16, alibi: true, softcap: 30 }),
      ts: {
        init: ["const out = multiHeadCausalAttention(x, this.heads, this.scale, { window: this.window, alibi: true, softcap: this.softcap, cache });", "window: config.window,"],
        forward: "this.attn.forward(x, cache)",
      },
      py: { init: ["out = causal_self_attention(x, self.heads, self.scale, window=self.window, alibi=True, softcap=self.softcap)", "def alibi_slopes(n: int)", "**shaping"], forward: "self.attn(x)" },
    },
    {
      title: "a window over a grouped KV cache, and a zero-initialized projection",
      given: mha({ kvHeads: 2, layout: "fused", window: 8, zeroInit: true }),
      ts: { init: ["if (cache) ({ k, v } = cache.append(this, k, v, this.window));", "const y = causalAttention(q, k, v, this.scale, { window: this.window });", 'this.proj.initRule = "zero";', 'if (module.initRule === "zero") init.constant(module.weight, 0);'], forward: "this.attn.forward(x, cache)" },
      py: { init: ["y = causal_attention(q, k, v, self.scale, window=self.window)", 'self.proj.init_rule = "zero"', "self.apply(init_zero_rules)"], forward: "self.attn(x)" },
    },
    {
      title: "unscaled, layer-normed queries and keys",
      given: mha({ layout: "fused", scale: false, qkNorm: "layer_norm" }),
      ts: { init: ["this.scale = 1;", 'this.qNorm = this.module("q_norm", new LayerNorm(o.headSize, 1e-5));'], forward: "this.attn.forward(x, cache)" },
      py: { init: ["self.scale = 1.0", "self.q_norm = LayerNorm(head_size, 1e-5)"], forward: "self.attn(x)" },
    },
  ],
  feed_forward: [
    {
      title: "ReLU",
      given: ffwd({}),
      ts: { init: ['this.ffwd = this.module("ffwd", new FeedForward(config.nEmbd, config.ffwdHidden));', "const h = tf.relu(this.fc.forward(x)); // (B, T, hidden)"], forward: "this.ffwd.forward(x)" },
      py: { init: ["self.ffwd = FeedForward(config.n_embd, config.ffwd_hidden)", "h = F.relu(self.fc(x))  # (B, T, hidden)"], forward: "self.ffwd(x)" },
    },
    {
      title: "SwiGLU without biases",
      given: ffwd({ activation: "silu", gated: true, bias: false }),
      ts: { init: ['const h = gatedActivation(this.gate.forward(x), this.fc.forward(x), "silu"); // (B, T, hidden)', 'this.gate = this.module("gate", new Linear(nIn, hidden, false));'], forward: "this.ffwd.forward(x)" },
      py: { init: ["h = F.silu(self.gate(x)) * self.fc(x)  # (B, T, hidden)", "self.gate = nn.Linear(n_in, hidden, bias=False)"], forward: "self.ffwd(x)" },
    },
    {
      title: "ReLU² and GELU with dropout",
      given: ffwd({ activation: "relu2", dropout: 0.2 }),
      ts: { init: ["const h = relu2(this.fc.forward(x)); // (B, T, hidden)", "return this.dropout.forward(this.proj.forward(h)); // (B, T, C)"], forward: "this.ffwd.forward(x)" },
      py: { init: ["h = torch.square(F.relu(self.fc(x)))  # (B, T, hidden)", "return self.dropout(self.proj(h))  # (B, T, C)"], forward: "self.ffwd(x)" },
    },
    {
      title: "Mixtral's experts: 2 of 4 SwiGLU experts, with the load-balancing loss",
      given: ffwd({ activation: "silu", gated: true, bias: false, moe: { experts: 4, topK: 2, auxLoss: 0.01 } }),
      ts: {
        init: [
          'this.ffwd = this.module("ffwd", new MixtureOfExperts({',
          'this.router = this.module("router", new Linear(o.nIn, o.nExperts, false));',
          'this.experts = this.modules("experts", Array.from({ length: o.nExperts }, () => new FeedForward(o.nIn, o.hidden)));',
          "const [probs, weights, chosen] = topKRouting(this.router.forward(x), this.topK); // (B, T, E), (B, T, K), (B, T, K)",
          "this.addAuxLoss(loadBalancingLoss(probs, chosen, this.auxLossCoef));",
          'return expertMix(x, weights, chosen, this.experts, "silu"); // (B, T, C)',
          "const aux = this.takeAuxLoss();",
          "return targets ? { logits, loss: crossEntropy(logits, targets), aux } : { logits };",
        ],
        forward: "this.ffwd.forward(x)",
      },
      py: {
        init: [
          "self.router = nn.Linear(n_in, n_experts, bias=False)",
          "self.experts = nn.ModuleList([FeedForward(n_in, hidden) for _ in range(n_experts)])",
          "self.aux_losses: list[torch.Tensor] = []",
          "probs, weights, chosen = top_k_routing(self.router(x), self.top_k)  # (B, T, E), (B, T, K), (B, T, K)",
          "self.aux_losses.append(load_balancing_loss(probs, chosen, self.aux_loss_coef))",
          "return expert_mix(x, weights, chosen, self.experts)  # (B, T, C)",
          "self.aux_loss = take_aux_losses(self)",
          "def expert_mix(",
        ],
        forward: "self.ffwd(x)",
      },
    },
    {
      title: "one of 3 GELU experts, no load-balancing loss, dropout after the mix",
      given: ffwd({ activation: "gelu", dropout: 0.1, moe: { experts: 3, topK: 1, auxLoss: 0 } }),
      ts: {
        init: [
          'this.dropout = this.module("dropout", new Dropout(o.dropout));',
          "const [, weights, chosen] = topKRouting(this.router.forward(x), this.topK); // (B, T, E), (B, T, K), (B, T, K)",
          'return this.dropout.forward(expertMix(x, weights, chosen, this.experts, "gelu")); // (B, T, C)',
        ],
        forward: "this.ffwd.forward(x)",
      },
      py: {
        init: [
          "self.dropout = nn.Dropout(dropout)",
          "_, weights, chosen = top_k_routing(self.router(x), self.top_k)  # (B, T, E), (B, T, K), (B, T, K)",
          "return self.dropout(expert_mix(x, weights, chosen, self.experts))  # (B, T, C)",
        ],
        forward: "self.ffwd(x)",
      },
    },
  ],
  layer_norm: [
    {
      title: "affine",
      given: ln("ln_f"),
      ts: { init: ['this.lnF = this.module("ln_f", new LayerNorm(config.nEmbd, 1e-5));', 'this.gamma = this.param("gamma", tf.ones([dim]));', "return layerNorm(x, this.gamma, this.beta, this.eps); // (B, T, C)"], forward: "this.lnF.forward(x)" },
      py: { init: ["self.ln_f = LayerNorm(config.n_embd, 1e-5)", "self.gamma = nn.Parameter(torch.ones(dim))", "return F.layer_norm(x, self.gamma.shape, self.gamma, self.beta, self.eps)  # (B, T, C)"], forward: "self.ln_f(x)" },
    },
    {
      title: "without gamma and beta",
      given: { kind: "layer_norm", name: "ln", width: 32, eps: 1e-6, affine: false },
      ts: { init: ['this.ln = this.module("ln", new LayerNorm(1e-6));', "return layerNorm(x, undefined, undefined, this.eps); // (B, T, C)"], forward: "this.ln.forward(x)" },
      py: { init: ["self.ln = LayerNorm(1e-6)", "return F.layer_norm(x, x.shape[-1:], eps=self.eps)  # (B, T, C)"], forward: "self.ln(x)" },
    },
  ],
  rms_norm: [
    {
      title: "with its gain",
      given: { kind: "rms_norm", name: "norm", width: 32, eps: 1e-5, scale: true },
      ts: { init: ['this.norm = this.module("norm", new RMSNorm(config.nEmbd, 1e-5));', "return rmsNorm(x, this.gamma, this.eps); // (B, T, C)"], forward: "this.norm.forward(x)" },
      py: { init: ["self.norm = RMSNorm(config.n_embd, 1e-5)", "return rms_norm(x, self.gamma, self.eps)  # (B, T, C)", "def rms_norm("], forward: "self.norm(x)" },
    },
    {
      title: "without a gain",
      given: { kind: "rms_norm", name: "norm", width: 32, eps: 1e-6, scale: false },
      ts: { init: ['this.norm = this.module("norm", new RMSNorm(1e-6));', "return rmsNorm(x, undefined, this.eps); // (B, T, C)"], forward: "this.norm.forward(x)" },
      py: { init: ["self.norm = RMSNorm(1e-6)", "return rms_norm(x, None, self.eps)  # (B, T, C)"], forward: "self.norm(x)" },
    },
  ],
  dropout: [
    {
      title: "a rate",
      given: { kind: "dropout", name: "dropout", width: 32, rate: 0.25 },
      ts: { init: ['this.dropout = this.module("dropout", new Dropout(config.dropout));'], forward: "this.dropout.forward(x)" },
      py: { init: ["self.dropout = nn.Dropout(config.dropout)", "dropout: float = 0.25"], forward: "self.dropout(x)" },
    },
  ],
  linear: [
    {
      title: "the head",
      given: { kind: "linear", name: "lm_head", inWidth: 32, outWidth: "vocab", bias: true },
      ts: { init: ['this.lmHead = this.module("lm_head", new Linear(config.nEmbd, this.vocabSize));'], forward: "this.lmHead.forward(x)" },
      py: { init: ["self.lm_head = nn.Linear(config.n_embd, config.vocab_size)"], forward: "self.lm_head(x)" },
    },
    {
      title: "without bias, to another width",
      given: { kind: "linear", name: "proj", inWidth: 32, outWidth: 16, bias: false },
      ts: { init: ['this.proj = this.module("proj", new Linear(config.nEmbd, config.projOut, false));'], forward: "this.proj.forward(x)" },
      py: { init: ["self.proj = nn.Linear(config.n_embd, config.proj_out, bias=False)", "proj_out: int = 16"], forward: "self.proj(x)" },
    },
    {
      title: "tied to the token table",
      given: { kind: "linear", name: "lm_head", inWidth: 32, outWidth: "vocab", bias: false, tiedTo: "token_embedding" },
      ts: { init: ['this.lmHead = this.module("lm_head", new Linear(config.nEmbd, this.vocabSize, false, this.tokenEmbedding.weight));'], forward: "this.lmHead.forward(x)" },
      py: { init: ["self.lm_head = TiedHead(self.token_embedding, bias=False)", "class TiedHead(nn.Module):"], forward: "self.lm_head(x)" },
    },
  ],
  residual: [
    {
      title: "a norm and a feed-forward layer",
      given: { kind: "residual", width: 32, body: [ln("ln1"), ffwd({})] },
      ts: { init: ['this.ln1 = this.module("ln1", new LayerNorm(config.nEmbd, 1e-5));', 'this.ffwd = this.module("ffwd", new FeedForward(config.nEmbd, config.ffwdHidden));'], forward: "tf.add(x, this.ffwd.forward(this.ln1.forward(x)))" },
      py: { init: ["self.ln1 = LayerNorm(config.n_embd, 1e-5)", "self.ffwd = FeedForward(config.n_embd, config.ffwd_hidden)"], forward: "x + self.ffwd(self.ln1(x))" },
    },
    {
      title: "around a repeat",
      given: { kind: "residual", width: 32, body: [{ kind: "repeat", name: "blocks", times: 2, width: 32, block, shared: false }] },
      ts: { init: ["let h = x;", "for (const block of this.blocks) h = block.forward(h); // (B, T, C)", "x = tf.add(x, h); // (B, T, C): x + f(x)"], forward: "" },
      py: { init: ["h = x", "for block in self.blocks:", "x = x + h  # (B, T, C): x + f(x)"], forward: "" },
    },
  ],
  block: [
    {
      title: "a class of its own",
      given: block,
      ts: { init: ['this.block = this.module("block", new Block());', "class Block extends Module", "return tf.tidy(() => {"], forward: "this.block.forward(x)" },
      py: { init: ["self.block = Block(config)", "def __init__(self, config: ModelConfig):"], forward: "self.block(x)" },
    },
  ],
  parallel: [
    {
      title: "attention and MLP side by side (GPT-J)",
      given: { kind: "parallel", inWidth: 32, outWidth: 32, branches: [[mha({})], [ffwd({})]] },
      ts: { init: ['this.attn = this.module("attn", new MultiHeadAttention(', 'this.ffwd = this.module("ffwd", new FeedForward(config.nEmbd, config.ffwdHidden));'], forward: "tf.add(this.attn.forward(x, cache), this.ffwd.forward(x))" },
      py: { init: ["self.attn = MultiHeadAttention(", "self.ffwd = FeedForward(config.n_embd, config.ffwd_hidden)"], forward: "self.attn(x) + self.ffwd(x)" },
    },
    {
      title: "a branch with a loop in it",
      given: { kind: "parallel", inWidth: 32, outWidth: 32, branches: [[{ kind: "repeat", name: "blocks", times: 2, width: 32, block, shared: false }], [ln("ln")]] },
      ts: { init: ["let branch1 = x;", "for (const block of this.blocks) branch1 = block.forward(branch1); // (B, T, C)", "let branch2 = x;", "branch2 = this.ln.forward(branch2);", "x = tf.add(branch1, branch2); // (B, T, C): the branches' sum"], forward: "" },
      py: { init: ["branch1 = x", "for block in self.blocks:", "branch2 = self.ln(branch2)", "x = branch1 + branch2  # (B, T, C): the branches' sum"], forward: "" },
    },
  ],
  save: [
    {
      title: "keeps the stream in a local",
      given: { kind: "save", label: "enc1", width: 32 },
      ts: { init: ["const skip_enc1 = x; // (B, T, C): kept for the add from enc1"], forward: "" },
      py: { init: ["skip_enc1 = x  # (B, T, C): kept for the add from enc1"], forward: "" },
    },
  ],
  add: [
    {
      title: "a plain sum",
      given: { kind: "add", name: "add", label: "enc1", width: 32, learned: false },
      ts: { init: [], forward: "tf.add(x, skip_enc1)" },
      py: { init: [], forward: "x + skip_enc1" },
    },
    {
      title: "times a learned scalar",
      given: { kind: "add", name: "add", label: "2", width: 32, learned: true },
      ts: { init: ['this.add = this.module("add", new ScalarGain());', 'this.weight = this.param("weight", tf.ones([1]));', "return tf.mul(x, this.weight);"], forward: "tf.add(x, this.add.forward(skip_2))" },
      py: { init: ["self.add = ScalarGain()", "self.weight = nn.Parameter(torch.ones(1))", "return x * self.weight"], forward: "x + self.add(skip_2)" },
    },
  ],
  repeat: [
    {
      title: "one block's weights applied three times",
      given: { kind: "repeat", name: "blocks", times: 3, width: 32, block, shared: true },
      ts: { init: ['this.blocks = this.shared("blocks", new Block(), config.nLayer);', "for (let i = 0; i < config.nLayer; i++) x = this.blocks[0]!.forward(x); // (B, T, C)"], forward: "" },
      py: { init: ["self.blocks = nn.ModuleList([Block(config)])", "for i in range(self.config.n_layer):", "            x = self.blocks[0](x)  # (B, T, C)"], forward: "" },
    },
    {
      title: "a block of blocks passes the config on (two defined kinds used in turn)",
      given: {
        kind: "repeat",
        name: "blocks",
        times: 2,
        width: 32,
        shared: false,
        block: { ...block, body: [{ ...block, name: "local", className: "Local" }, { ...block, name: "full", className: "Full", body: [ln("norm")] }] },
      },
      ts: { init: ["this.local = this.module(\"local\", new Local());", "for (const block of this.blocks) x = block.forward(x); // (B, T, C)"], forward: "" },
      py: { init: ["self.blocks = nn.ModuleList([Block(config) for _ in range(config.n_layer)])", "    def __init__(self, config: ModelConfig):\n        super().__init__()\n        self.local = Local(config)\n        self.full = Full(config)"], forward: "" },
    },
    {
      title: "three copies",
      given: { kind: "repeat", name: "blocks", times: 3, width: 32, block, shared: false },
      ts: { init: ['this.blocks = this.modules("blocks", Array.from({ length: config.nLayer }, () => new Block()));', "for (const block of this.blocks) x = block.forward(x); // (B, T, C)", "nLayer: 3,"], forward: "" },
      py: { init: ["self.blocks = nn.ModuleList([Block(config) for _ in range(config.n_layer)])", "for block in self.blocks:", "        x = block(x)  # (B, T, C)", "n_layer: int = 3"], forward: "" },
    },
  ],
};

/** A file whose model holds the node's field and applies its forward to x (the input) once. */
function fileWith(node: NodeOf<NodeKind>): ModuleFile {
  const ctx = new ModelContext(model);
  const init = ctx.fieldsOf([node]);
  const step = ctx.stepOf(node, v("x"));
  const body: Stmt[] = [
    { kind: "let", name: "x", value: { kind: "call", module: { kind: "field", name: "token_embedding" }, args: [v("idx")] } },
    ...(step.kind === "expr" ? [{ kind: "set", name: "x", value: step.expr } as const] : step.stmts),
    { kind: "let", name: "logits", value: v("x") },
  ];
  return {
    name: "t",
    files: model.files,
    modelHash: model.modelHash,
    config: ctx.configSlots(),
    classes: ctx.classes(),
    model: { name: "TModel", doc: "t", init, forward: { rank: 3, cache: true, scoped: true, body }, initStyle: "torch" },
  };
}

const rows = Object.values(cases).flatMap((list) => list.map((c) => [`${c.given.kind}: ${c.title}`, c] as const));
const pythonFiles: string[] = [];
const scratch = mkdtempSync(join(tmpdir(), "babygpt-builders-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("builders, through both serializers", () => {
  it.each(rows)("%s", (_title, c) => {
    const file = fileWith(c.given as NodeOf<NodeKind>);
    const tsText = emitModelFile(file);
    const pyText = emitTorchModelFile(file);
    for (const line of c.ts.init) expect(tsText).toContain(line);
    for (const line of c.py.init) expect(pyText).toContain(line);
    if (c.ts.forward) expect(tsText).toContain(`x = ${c.ts.forward};`);
    if (c.py.forward) expect(pyText).toContain(`x = ${c.py.forward}`);
    const parsed = ts.createSourceFile("m.ts", tsText, ts.ScriptTarget.ES2022, true) as unknown as { parseDiagnostics: readonly ts.Diagnostic[] };
    expect(parsed.parseDiagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))).toEqual([]);
    const py = join(scratch, `m${pythonFiles.length}.py`);
    writeFileSync(py, pyText);
    pythonFiles.push(py);
  });

  it("writes Python that compiles", () => {
    expect(pythonFiles.length).toBe(rows.length);
    try {
      execFileSync("python3", ["-m", "py_compile", ...pythonFiles], { stdio: "pipe" });
    } catch (e) {
      const err = e as { code?: string; stderr?: Buffer };
      if (err.code === "ENOENT") return; // no python3 here: the parity tests, which need it, say so
      throw new Error(String(err.stderr));
    }
  });

  it("declares a class once per structure, and a second variant as Head2", () => {
    const ctx = new ModelContext(model);
    ctx.fieldsOf([{ kind: "attention_head", name: "a", inWidth: 32, headSize: 8, scale: true, dropout: 0 }]);
    ctx.fieldsOf([{ kind: "attention_head", name: "b", inWidth: 32, headSize: 8, scale: true, dropout: 0 }]);
    ctx.fieldsOf([{ kind: "attention_head", name: "c", inWidth: 32, headSize: 8, scale: false, dropout: 0 }]);
    expect(ctx.classes().map((c) => c.name)).toEqual(["Head", "Head2"]);
  });

  it("gives a multi-head layer's heads their projections and no forward", () => {
    const ctx = new ModelContext(model);
    ctx.fieldsOf([mha({})]);
    const [head, layer] = ctx.classes();
    expect([head?.name, head?.forward, head?.init.map((f) => ("name" in f ? f.name : ""))]).toEqual(["Head", undefined, ["key", "query", "value"]]);
    expect(layer?.name).toBe("MultiHeadAttention");
  });

  it("names config fields after their layers where layers of one kind differ", () => {
    const ctx = new ModelContext(model);
    ctx.fieldsOf([mha({ name: "attn1" }), mha({ name: "attn2", heads: 2, headSize: 16 })]);
    expect(ctx.configSlots().map((s) => `${s.name}=${s.value}`)).toEqual(["block_size=8", "n_embd=32", "n_head_attn1=4", "head_size_attn1=8", "n_head_attn2=2", "head_size_attn2=16"]);
  });

  it("adds the aux loss only where a layer records one: experts without aux_loss leave the model's forward as it was", () => {
    const without = fileWith(ffwd({ moe: { experts: 3, topK: 1, auxLoss: 0 } }));
    const withLoss = fileWith(ffwd({ moe: { experts: 3, topK: 1, auxLoss: 0.01 } }));
    for (const [file, has] of [[without, false], [withLoss, true]] as const) {
      expect(emitModelFile(file).includes("takeAuxLoss"), "TypeScript").toBe(has);
      expect(emitTorchModelFile(file).includes("take_aux_losses"), "Python").toBe(has);
      expect(emitTorchModelFile(file).includes("aux_losses: list"), "Python's list").toBe(has);
    }
  });

  it("adds nothing for dropout at rate 0", () => {
    const ctx = new ModelContext(model);
    const node = { kind: "dropout", name: "dropout", width: 32, rate: 0 } as const;
    expect([ctx.fieldsOf([node]), ctx.stepOf(node, v("x"))]).toEqual([[], { kind: "stmts", stmts: [] }]);
  });

  it("imports only names runtime/nn exports: every name the ops' spellings and the serializer may use is there", () => {
    const missing = RUNTIME_VALUES.filter((n) => !(n in runtimeNn));
    expect(missing).toEqual([]);
    expect(RUNTIME_VALUES).toContain("multiHeadCausalAttention");
  });
});

// multi_head_attention → in the lecture's layout, the MultiHeadAttention class: heads side by side (each
// its own key, query and value, as babygpt names them), concatenated and projected; causal_self_attention
// computes them all. In the fused layout (grouped-query, rotary or qk-normed attention), the
// CausalSelfAttention class: one query, key and value projection for all heads, and causal_attention.
import type { MultiHeadAttentionNode } from "../../ir/nodes/index.js";
import type { Scope, TorchContext } from "../context.js";
import { callModule, type Member, moduleMember, type TorchLayerEmitter } from "../layer-emitter.js";
import { pyNum } from "../python.js";
import { useHeadClass } from "./attention-head.js";
import { useLayerNormClass } from "./layer-norm.js";
import { useRmsNormClass } from "./rms-norm.js";

/** eps of the query and key norms (as the TypeScript target's). */
const QK_NORM_EPS = 1e-5;

export const emitMultiHeadAttention: TorchLayerEmitter<MultiHeadAttentionNode> = {
  members: (node, ctx, scope) => (node.layout === "heads" ? headsMembers(node, ctx, scope) : fusedMembers(node, ctx, scope)),
  forward: (node, input) => callModule(node.name, input),
};

function headsMembers(node: MultiHeadAttentionNode, ctx: TorchContext, scope: Scope): Member[] {
  const withDropout = node.dropout > 0;
  const head = useHeadClass(ctx, undefined, node.qkvBias);
  const attention = ctx.useHelper("causal_self_attention");
  const proj = node.projection;
  const scale = node.scale ? "True" : "False";
  const variant = `head=${head},projection=${proj},projectionBias=${node.projectionBias},scale=${node.scale},dropout=${withDropout}`;
  const cls = ctx.useClass("MultiHeadAttention", variant, "attention", (name) => ({
    name,
    doc: `Several heads of attention in parallel${proj ? ", their outputs concatenated and projected back to the input width" : ", their outputs concatenated"}.`,
    params: `n_in: int, heads: int, head_size: int${withDropout ? ", dropout: float" : ""}`,
    init: [
      `self.heads = nn.ModuleList([${head}(n_in, head_size) for _ in range(heads)])`,
      ...(proj ? ["# Mixes what the heads found, back into the residual stream's width.", `self.proj = nn.Linear(heads * head_size, n_in${node.projectionBias ? "" : ", bias=False"})`] : []),
      ...(withDropout ? [`self.dropout = dropout  # on the attention weights${proj ? " and after the projection" : ""}, while training`] : []),
    ],
    forward: [
      "# Every head at once: the same as torch.cat([attention of head h for h in self.heads], -1), from one",
      `# projection of x for all heads (${node.scale ? "scores scaled by 1/sqrt(hs)" : "scores unscaled"}).`,
      `${proj ? "out =" : "return"} ${attention}(x, self.heads, scale=${scale}${withDropout ? ", dropout=self.dropout, training=self.training" : ""})  # (B, T, nh*hs)`,
      ...(proj ? [withDropout ? "return F.dropout(self.proj(out), self.dropout, self.training)  # (B, T, C)" : "return self.proj(out)  # (B, T, C)"] : []),
    ],
  }));
  const dropout = withDropout ? `, ${pyNum(node.dropout)}` : "";
  return [moduleMember(ctx.attr(node.name, scope), `${cls}(${ctx.size(node.inWidth)}, ${node.heads}, ${node.headSize}${dropout})`)];
}

function fusedMembers(node: MultiHeadAttentionNode, ctx: TorchContext, scope: Scope): Member[] {
  const withDropout = node.dropout > 0;
  const proj = node.projection;
  const attention = ctx.useHelper("causal_attention");
  const norm = node.qkNorm === undefined ? undefined : node.qkNorm === "rms_norm" ? useRmsNormClass(ctx, true) : useLayerNormClass(ctx, true);
  const rope = node.rope;
  const tables = rope ? ctx.useHelper("rotary_tables") : undefined;
  const bias = node.qkvBias ? "" : ", bias=False";
  const variant = `heads=${node.heads},kv=${node.kvHeads},qkvBias=${node.qkvBias},proj=${proj}/${node.projectionBias},rope=${rope ? `${rope.dims}/${rope.base}` : "none"},qkNorm=${norm ?? "none"},scale=${node.scale},dropout=${withDropout}`;
  const cls = ctx.useClass("CausalSelfAttention", variant, "attention", (name) => ({
    name,
    doc:
      (node.kvHeads === node.heads
        ? "Causal self-attention with one projection for the queries of every head, one for the keys and one for the values"
        : `Grouped-query attention: ${node.kvHeads} key/value heads, each shared by ${node.heads / node.kvHeads} query heads`) +
      (norm ? "; queries and keys normalized per head" : "") +
      (rope ? "; rotary positions on queries and keys" : "") +
      ".",
    params: `n_in: int, heads: int, kv_heads: int, head_size: int${withDropout ? ", dropout: float" : ""}`,
    init: [
      "self.heads, self.kv_heads, self.head_size = heads, kv_heads, head_size",
      `self.query = nn.Linear(n_in, heads * head_size${bias})  # every head's query`,
      `self.key = nn.Linear(n_in, kv_heads * head_size${bias})  # every kv head's key`,
      `self.value = nn.Linear(n_in, kv_heads * head_size${bias})  # every kv head's value`,
      ...(norm ? [`self.q_norm = ${norm}(head_size, ${pyNum(QK_NORM_EPS)})  # one gain for every head's query`, `self.k_norm = ${norm}(head_size, ${pyNum(QK_NORM_EPS)})  # and one for the keys`] : []),
      ...(rope
        ? [
            `cos, sin = ${tables}(${ctx.ir.blockSize}, ${rope.dims}, ${pyNum(rope.base)})  # (T, ${rope.dims / 2}) each`,
            'self.register_buffer("cos", cos, persistent=False)',
            'self.register_buffer("sin", sin, persistent=False)',
          ]
        : []),
      ...(proj ? ["# Mixes what the heads found, back into the residual stream's width.", `self.proj = nn.Linear(heads * head_size, n_in${node.projectionBias ? "" : ", bias=False"})`] : []),
      ...(withDropout ? [`self.dropout = dropout  # on the attention weights${proj ? " and after the projection" : ""}, while training`] : []),
    ],
    forward: [
      "B, T, _ = x.shape",
      "q = self.query(x).view(B, T, self.heads, self.head_size).transpose(1, 2)  # (B, nh, T, hs)",
      "k = self.key(x).view(B, T, self.kv_heads, self.head_size).transpose(1, 2)  # (B, nkv, T, hs)",
      "v = self.value(x).view(B, T, self.kv_heads, self.head_size).transpose(1, 2)  # (B, nkv, T, hs)",
      ...(norm ? ["q, k = self.q_norm(q), self.k_norm(k)  # each head's query and key normalized"] : []),
      ...(rope ? ["q, k = apply_rotary(q, self.cos, self.sin), apply_rotary(k, self.cos, self.sin)  # rotated by position"] : []),
      `y = ${attention}(q, k, v, scale=${node.scale ? "True" : "False"}${withDropout ? ", dropout=self.dropout, training=self.training" : ""})  # (B, nh, T, hs)`,
      `${proj ? "out =" : "return"} y.transpose(1, 2).reshape(B, T, self.heads * self.head_size)  # (B, T, nh*hs): the heads side by side`,
      ...(proj ? [withDropout ? "return F.dropout(self.proj(out), self.dropout, self.training)  # (B, T, C)" : "return self.proj(out)  # (B, T, C)"] : []),
    ],
  }));
  const dropout = withDropout ? `, ${pyNum(node.dropout)}` : "";
  return [moduleMember(ctx.attr(node.name, scope), `${cls}(${ctx.size(node.inWidth)}, ${node.heads}, ${node.kvHeads}, ${node.headSize}${dropout})`)];
}

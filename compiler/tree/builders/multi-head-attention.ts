// multi_head_attention → in the lecture's layout, the MultiHeadAttention class (a Head of projections per
// head, the heads side by side, concatenated, projected), whose forward is one op over all heads; in the
// fused layout (grouped-query, rotary or qk-normed attention), the CausalSelfAttention class, which
// projects every head at once, splits the heads, and calls causal attention over them.
import type { MultiHeadAttentionNode } from "../../ir/nodes/index.js";
import { expr, type BuildContext, type Builder } from "../builder.js";
import { CONFIG_DOCS } from "../config-docs.js";
import { dropout, linear } from "../library.js";
import { call, num, param, self, v, type Expr, type Field, type Init, type Param, type Stmt } from "../nodes.js";
import { causalAttention, multiHeadCausalAttention, reshape, rope, rotaryTables, transpose, type AttentionExtras } from "../ops/index.js";
import { CACHE_NOTE, headProjectionsClass } from "./attention-head.js";
import { projectionRule } from "./init-rules.js";
import { layerNormMake } from "./layer-norm.js";
import { rmsNormMake } from "./rms-norm.js";

/** eps of the query and key norms. */
const QK_NORM_EPS = 1e-5;

const mulSizes = (a: Expr, b: Expr): Expr => ({ kind: "arith", op: "*", left: a, right: b });

export const multiHeadAttention: Builder<MultiHeadAttentionNode> = {
  fields(node, ctx) {
    const fused = node.layout === "fused";
    const cls = fused ? fusedClass(node, ctx) : headsClass(node, ctx);
    const args: Expr[] = [
      ctx.width(node.inWidth, node.name, "in"),
      ctx.config("n_head", node.heads, "Attention heads per layer: each attends on its own, to something different.", node.name),
    ];
    if (fused) args.push(ctx.config("n_kv_head", node.kvHeads, "Key/value heads per attention layer, each shared by a group of query heads (grouped-query attention when fewer than the heads).", node.name));
    args.push(ctx.config("head_size", node.headSize, "Width of each attention head's query, key and value.", node.name));
    if (fused && node.rope) {
      args.push(ctx.config("block_size", ctx.ir.blockSize, CONFIG_DOCS.block_size, "model"));
      args.push(ctx.config("rope_dims", node.rope.dims, "Features of each query and key head that rotary embedding rotates (in pairs).", node.name));
      args.push(ctx.config("rope_base", node.rope.base, "Rotary embedding's base: the angle of pair i at position pos is pos · base^(-2i / rotated features).", node.name, true));
    }
    if (node.window !== undefined) args.push(ctx.config("window", node.window, "Positions each attends over: itself and the window − 1 before it (sliding-window attention).", node.name));
    if (node.softcap !== undefined) args.push(ctx.config("attn_softcap", node.softcap, "The attention scores' cap: s → attn_softcap·tanh(s / attn_softcap).", node.name, true));
    if (node.dropout > 0) args.push(ctx.config("dropout", node.dropout, CONFIG_DOCS.dropout, node.name, true));
    return [{ kind: "module", name: node.name, make: { kind: "class", name: cls, args } }];
  },
  forward: (node, input) => expr(call(self(node.name), [input], true)),
};

/** What the attention op does besides the causal mask: dropout on its weights, a window, ALiBi, a cap. */
function extras(node: MultiHeadAttentionNode): AttentionExtras {
  return {
    dropout: node.dropout > 0 ? self("attn_dropout") : undefined,
    window: node.window !== undefined ? self("window") : undefined,
    alibi: node.alibi,
    softcap: node.softcap !== undefined ? self("softcap") : undefined,
  };
}

/** The fields both layouts end with: the scale, the window and cap, the output projection, the dropouts. */
function commonFields(node: MultiHeadAttentionNode, ctx: BuildContext): Init[] {
  const withDropout = node.dropout > 0;
  const fields: Field[] = [
    node.scale
      ? { kind: "value", name: "scale", value: { kind: "arith", op: "**", left: param("head_size"), right: num(-0.5) }, float: true, doc: "1/sqrt(head_size): keeps the scores' variance near 1." }
      : { kind: "value", name: "scale", value: num(1, true), float: true, doc: "1: scores are left unscaled." },
  ];
  if (node.window !== undefined) fields.push({ kind: "value", name: "window", value: param("window"), float: false, doc: "Each position attends to itself and the window − 1 positions before it." });
  if (node.softcap !== undefined) fields.push({ kind: "value", name: "softcap", value: param("softcap"), float: true, doc: "Scores are capped smoothly at ±softcap." });
  if (node.projection) {
    const initRule = projectionRule(node.zeroInit, ctx);
    fields.push({ kind: "module", name: "proj", make: linear(mulSizes(param("heads"), param("head_size")), param("n_in"), node.projectionBias), doc: "Mixes what the heads found, back into the residual stream's width.", ...(initRule ? { initRule } : {}) });
  }
  if (withDropout) {
    fields.push({ kind: "module", name: "attn_dropout", make: dropout(param("dropout")), doc: "On the attention weights, while training." });
    if (node.projection) fields.push({ kind: "module", name: "resid_dropout", make: dropout(param("dropout")), doc: "After the output projection, while training." });
  }
  return fields;
}

/** The end of forward: `out` (B, T, nh*hs) through the projection and its dropout; or out itself. */
function projectOut(node: MultiHeadAttentionNode, out: Expr, comment: string): Stmt[] {
  if (!node.projection) return [{ kind: "return", value: out, comment }];
  const projected = call(self("proj"), [v("out")]);
  return [
    { kind: "let", name: "out", value: out, comment },
    { kind: "return", value: node.dropout > 0 ? call(self("resid_dropout"), [projected]) : projected, comment: "(B, T, C)" },
  ];
}

function baseParams(node: MultiHeadAttentionNode, fused: boolean): Param[] {
  const params: Param[] = [{ name: "n_in" }, { name: "heads" }];
  if (fused) params.push({ name: "kv_heads" });
  params.push({ name: "head_size" });
  if (fused && node.rope) params.push({ name: "block_size" }, { name: "rope_dims" }, { name: "rope_base", float: true });
  if (node.window !== undefined) params.push({ name: "window" });
  if (node.softcap !== undefined) params.push({ name: "softcap", float: true });
  if (node.dropout > 0) params.push({ name: "dropout", float: true });
  return params;
}

function headsClass(node: MultiHeadAttentionNode, ctx: BuildContext): string {
  const head = headProjectionsClass(ctx, node.qkvBias);
  const withDropout = node.dropout > 0;
  const steps: [string, string][] = [
    ["q, k, v = query(x), key(x), value(x)", "(B, T, hs) each"],
    [`wei = softmax(${scoresMath(node)})`, "(B, T, T): each row sums to 1"],
    ...(withDropout ? [["wei = dropout(wei)", "(B, T, T), in training"] as [string, string]] : []),
    ["out = wei·v", "(B, T, hs)"],
  ];
  const width = Math.max(...steps.map(([math]) => math.length));
  const table = steps.map(([math, shape], i) => `  ${i === 0 ? "per head:" : "         "} ${math.padEnd(width)}  ${shape}`);
  return ctx.useClass("MultiHeadAttention", "attention", {
    doc: [`Several heads of attention in parallel${node.projection ? ", their outputs concatenated and projected back to the input width" : ", their outputs concatenated"}`, ...extrasDoc(node)].join("; ") + ".",
    params: baseParams(node, false),
    init: [
      { kind: "modules", name: "heads", count: param("heads"), make: { kind: "class", name: head, args: [param("n_in"), param("head_size")] } },
      ...commonFields(node, ctx),
    ],
    forward: {
      rank: 3,
      cache: true,
      scoped: false,
      body: [
        {
          kind: "note",
          verbatim: true,
          text: ["Causal self-attention of every head in one op:", ...table, "and the heads' outputs side by side."].join("\n"),
        },
        {
          kind: "note",
          only: "typescript",
          text: "runtime/ops/attention.ts has the op's math in tf ops; a backend with a kernel for it runs all of it as one. While sampling, k and v of the earlier positions come from the cache.",
        },
        ...projectOut(node, multiHeadCausalAttention(v("x"), self("heads"), self("scale"), extras(node)), "(B, T, nh*hs)"),
      ],
    },
  });
}

/** The scores softmax weighs, as math: scaled, capped, biased by distance, masked (to a window). */
function scoresMath(node: MultiHeadAttentionNode): string {
  let s = `q·kᵀ${node.scale ? " · scale" : ""}`;
  if (node.softcap !== undefined) s = `softcap·tanh(${s} / softcap)`;
  if (node.alibi) s = `${s} − m_h·(i − j)`;
  return `${node.window !== undefined ? "windowMask" : "causalMask"}(${s})`;
}

/** What the extras do, in prose, for the classes' docs. */
function extrasDoc(node: MultiHeadAttentionNode): string[] {
  const parts: string[] = [];
  if (node.window !== undefined) parts.push("each position attends only to itself and the window − 1 positions before it (sliding-window attention)");
  if (node.alibi) parts.push("scores fall linearly with the distance between positions, at one slope per head (ALiBi), in place of position embeddings");
  if (node.softcap !== undefined) parts.push("scores are capped smoothly at ±softcap");
  return parts;
}

/** What the fused class does, for its doc comment. */
function fusedDoc(node: MultiHeadAttentionNode): string {
  const parts = [
    node.kvHeads === node.heads
      ? "Causal self-attention with one projection for the queries of every head, one for the keys and one for the values"
      : node.kvHeads === 1
        ? "Multi-query attention: every query head attends with the same single key and value head"
        : `Grouped-query attention: the query heads come in ${node.kvHeads} groups, each sharing one key and value head`,
  ];
  if (node.qkNorm) parts.push(`each head's queries and keys ${node.qkNorm === "rms_norm" ? "RMS" : "layer"}-normalized (one learned gain per q and k, shared by the heads)`);
  if (node.rope) parts.push(`rotary positions: ${node.rope.dims === node.headSize ? "each" : "the first rotated dimensions of each"} query and key rotated by an angle that grows with the position, so scores depend on the distance between positions`);
  parts.push(...extrasDoc(node));
  return `${parts.join("; ")}.`;
}

function fusedClass(node: MultiHeadAttentionNode, ctx: BuildContext): string {
  const norm = node.qkNorm === undefined ? undefined : node.qkNorm === "rms_norm" ? rmsNormMake(ctx, true, param("head_size"), QK_NORM_EPS) : layerNormMake(ctx, true, param("head_size"), QK_NORM_EPS);
  const qkv = (name: string, heads: string, doc: string): Field => ({ kind: "module", name, make: linear(param("n_in"), mulSizes(param(heads), param("head_size")), node.qkvBias), doc });
  // (B, T, heads*hs) → (B, heads, T, hs)
  const split = (t: Expr, heads: string): Expr => transpose(reshape(t, [v("B"), v("T"), self(heads), self("head_size")]), [0, 2, 1, 3]);
  const init: Init[] = [
    { kind: "value", name: "heads", value: param("heads"), float: false },
    { kind: "value", name: "kv_heads", value: param("kv_heads"), float: false, doc: "Key/value heads; each serves a group of query heads." },
    { kind: "value", name: "head_size", value: param("head_size"), float: false },
    qkv("query", "heads", "Every head's query: heads × head size features."),
    qkv("key", "kv_heads", "Every kv head's key: kv heads × head size features."),
    qkv("value", "kv_heads", "Every kv head's value: kv heads × head size features."),
  ];
  if (norm) {
    init.push({ kind: "module", name: "q_norm", make: norm, doc: "Normalizes each head's query (gain shared by the heads)." });
    init.push({ kind: "module", name: "k_norm", make: norm, doc: "Normalizes each head's key (gain shared by the heads)." });
  }
  if (node.rope) {
    init.push({ kind: "unpack", names: ["cos", "sin"], value: rotaryTables(param("block_size"), param("rope_dims"), param("rope_base")), comment: "(T, rotated/2) each" });
    init.push({ kind: "buffer", name: "cos", value: { kind: "var", name: "cos" }, rank: 2, doc: "cos(pos · base^(-2i/rotated)) for every position and pair i of the rotated features: (T, rotated/2)." });
    init.push({ kind: "buffer", name: "sin", value: { kind: "var", name: "sin" }, rank: 2, doc: "The sines of the same angles." });
  }
  init.push(...commonFields(node, ctx));
  const body: Stmt[] = [
    { kind: "shape", names: ["B", "T"], of: v("x"), rank: 3 },
    { kind: "let", name: "q", value: split(call(self("query"), [v("x")]), "heads"), comment: "(B, nh, T, hs)" },
    { kind: "let", name: "k", value: split(call(self("key"), [v("x")]), "kv_heads"), comment: "(B, nkv, T, hs)" },
    { kind: "let", name: "v", value: split(call(self("value"), [v("x")]), "kv_heads"), comment: "(B, nkv, T, hs)" },
  ];
  if (norm) {
    body.push({ kind: "set", name: "q", value: call(self("q_norm"), [v("q")]), comment: "(B, nh, T, hs): each head's query normalized" });
    body.push({ kind: "set", name: "k", value: call(self("k_norm"), [v("k")]), comment: "(B, nkv, T, hs)" });
  }
  if (node.rope) {
    body.push({ kind: "note", text: "Rotate by position; while sampling, x's positions start after the cached ones." });
    body.push({ kind: "set", name: "q", value: rope(v("q"), self("cos"), self("sin")), comment: "(B, nh, T, hs)" });
    body.push({ kind: "set", name: "k", value: rope(v("k"), self("cos"), self("sin")), comment: "(B, nkv, T, hs)" });
  }
  body.push(
    { kind: "note", only: "typescript", text: CACHE_NOTE },
    { kind: "cache", k: "k", v: "v", comment: "(B, nkv, past+T, hs)", ...(node.window !== undefined ? { window: self("window") } : {}) },
    { kind: "note", text: `softmax(${scoresMath(node)})·v per head; query head h reads kv head h / (nh / nkv), rounded down.` },
    { kind: "note", only: "typescript", text: "runtime/ops/causal-attention.ts has the op's math in tf ops." },
    { kind: "let", name: "y", value: causalAttention(v("q"), v("k"), v("v"), self("scale"), extras(node)), comment: "(B, nh, T, hs)" },
    ...projectOut(node, reshape(transpose(v("y"), [0, 2, 1, 3]), [v("B"), v("T"), mulSizes(self("heads"), self("head_size"))]), "(B, T, nh*hs): the heads side by side"),
  );
  return ctx.useClass("CausalSelfAttention", "attention", { doc: fusedDoc(node), params: baseParams(node, true), init, forward: { rank: 3, cache: true, scoped: false, body } });
}

// multi_head_attention → in the lecture's layout, the MultiHeadAttention class (heads side by side,
// concatenated, projected), whose forward is one op, multiHeadCausalAttention, with the op's math and
// shapes in a comment above the call; in the fused layout (grouped-query, rotary or qk-normed attention),
// the CausalSelfAttention class, which projects every head at once and calls causalAttention.
import type { MultiHeadAttentionNode } from "../../ir/nodes/index.js";
import { buildClass } from "../class-builder.js";
import { type EmitContext, num, type Scope } from "../context.js";
import { CACHE_PARAM, callForward, type LayerEmitter, type Member, moduleMember } from "../layer-emitter.js";
import { useHeadProjectionsClass } from "./attention-head.js";
import { useLayerNormClass } from "./layer-norm.js";
import { useRmsNormClass } from "./rms-norm.js";

/** eps of the query and key norms. */
const QK_NORM_EPS = 1e-5;

export const emitMultiHeadAttention: LayerEmitter<MultiHeadAttentionNode> = {
  runtime: ["Linear", "causalAttention", "dropout", "layerNorm", "multiHeadCausalAttention", "rmsNorm", "rope", "rotaryTables", "tf"],
  members: (node, ctx, scope) => (node.layout === "heads" ? headsMembers(node, ctx, scope) : fusedMembers(node, ctx, scope)),
  forward: (node, input) => callForward(node.name, input, true),
};

function headsMembers(node: MultiHeadAttentionNode, ctx: EmitContext, scope: Scope): Member[] {
  const withDropout = node.dropout > 0;
  const head = useHeadProjectionsClass(ctx, node.qkvBias);
  const proj = node.projection;
  const projArgs = `o.heads * o.headSize, o.nIn${node.projectionBias ? "" : ", false"}`;
  const cls = ctx.useClass("MultiHeadAttention", `head=${head},projection=${proj},projectionBias=${node.projectionBias},dropout=${withDropout}`, "attention", (name) =>
    buildClass({
      name,
      doc: `Several heads of attention in parallel${proj ? ", their outputs concatenated and projected back to the input width" : ", their outputs concatenated"}.`,
      fields: [
        { name: "heads", type: `${head}[]` },
        { name: "scale", type: "number", doc: node.scale ? "1/sqrt(head_size): keeps the scores' variance near 1." : "1: scores are left unscaled." },
        ...(proj ? [{ name: "proj", type: "Linear", doc: "Mixes what the heads found, back into the residual stream's width." }] : []),
        ...(withDropout ? [{ name: "dropoutRate", type: "number" }] : []),
      ],
      ctorParams: [{ name: "o", type: `{ nIn: number; heads: number; headSize: number${withDropout ? "; dropout: number" : ""} }` }],
      ctorBody: [
        `const makeHead = (): ${head} => new ${head}({ nIn: o.nIn, headSize: o.headSize });`,
        `this.heads = this.modules("heads", Array.from({ length: o.heads }, makeHead));`,
        node.scale ? "this.scale = o.headSize ** -0.5;" : "this.scale = 1;",
        ...(proj ? [`this.proj = this.module("proj", new Linear(${projArgs}));`] : []),
        ...(withDropout ? ["this.dropoutRate = o.dropout;"] : []),
      ],
      methods: [
        {
          name: "forward",
          params: [{ name: "x", type: "tf.Tensor3D" }, CACHE_PARAM],
          returns: "tf.Tensor3D",
          body: [
            ...opComment(node.scale, withDropout),
            `${proj ? "const out =" : "return"} multiHeadCausalAttention(x, this.heads, this.scale, { ${withDropout ? "dropout: this.dropoutRate, training: this.training, " : ""}cache }); // (B, T, nh*hs)`,
            ...projectOut(proj, withDropout),
          ],
        },
      ],
    }),
  );
  const args: [string, string][] = [
    ["nIn", ctx.size(node.inWidth, scope)],
    ["heads", String(node.heads)],
    ["headSize", String(node.headSize)],
  ];
  if (withDropout) args.push(["dropout", num(node.dropout)]);
  return [moduleMember(node.name, cls, args)];
}

/** The comment above the op's call: what it computes for each head, with the shapes. */
function opComment(scale: boolean, withDropout: boolean): string[] {
  const steps: [string, string][] = [
    ["q, k, v = query(x), key(x), value(x)", "(B, T, hs) each"],
    [`wei = softmax(causalMask(q·kᵀ${scale ? " · scale" : ""}))`, "(B, T, T): each row sums to 1"],
    ...(withDropout ? [["wei = dropout(wei)", "(B, T, T), in training"] as [string, string]] : []),
    ["out = wei·v", "(B, T, hs)"],
  ];
  const width = Math.max(...steps.map(([math]) => math.length));
  return [
    "// Causal self-attention of every head in one op (runtime/ops/attention.ts has its math in tf ops):",
    ...steps.map(([math, shape], i) => `//   ${i === 0 ? "per head:" : "         "} ${math.padEnd(width)}  ${shape}`),
    "//   and the heads' outputs side by side. While sampling, k and v of the earlier positions come from",
    "//   the cache.",
  ];
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
  if (node.rope) parts.push(`rotary positions: ${node.rope.dims === node.headSize ? "each" : `the first ${node.rope.dims} dimensions of each`} query and key rotated by an angle that grows with the position, so scores depend on the distance between positions`);
  return `${parts.join("; ")}.`;
}

function fusedMembers(node: MultiHeadAttentionNode, ctx: EmitContext, scope: Scope): Member[] {
  const withDropout = node.dropout > 0;
  const proj = node.projection;
  const bias = node.qkvBias ? "" : ", false";
  const norm = node.qkNorm === undefined ? undefined : node.qkNorm === "rms_norm" ? useRmsNormClass(ctx, true) : useLayerNormClass(ctx, true);
  const applyNorm = (t: string, field: string): string =>
    node.qkNorm === "rms_norm" ? `rmsNorm(${t}, this.${field}.gamma, this.${field}.eps)` : `layerNorm(${t}, this.${field}.gamma, this.${field}.beta, this.${field}.eps)`;
  const rope = node.rope;
  const variant = `heads=${node.heads},kv=${node.kvHeads},qkvBias=${node.qkvBias},proj=${proj}/${node.projectionBias},rope=${rope ? `${rope.dims}/${rope.base}` : "none"},qkNorm=${norm ?? "none"},scale=${node.scale},dropout=${withDropout}`;
  const cls = ctx.useClass("CausalSelfAttention", variant, "attention", (name) =>
    buildClass({
      name,
      doc: fusedDoc(node),
      fields: [
        { name: "heads", type: "number" },
        { name: "kvHeads", type: "number", doc: "Key/value heads; each serves heads / kvHeads query heads." },
        { name: "headSize", type: "number" },
        { name: "scale", type: "number", doc: node.scale ? "1/sqrt(head_size): keeps the scores' variance near 1." : "1: scores are left unscaled." },
        { name: "query", type: "Linear", doc: "Every head's query: heads × head_size features." },
        { name: "key", type: "Linear", doc: "Every kv head's key: kvHeads × head_size features." },
        { name: "value", type: "Linear", doc: "Every kv head's value: kvHeads × head_size features." },
        ...(norm
          ? [
              { name: "qNorm", type: norm, doc: "Normalizes each head's query (gain shared by the heads)." },
              { name: "kNorm", type: norm, doc: "Normalizes each head's key (gain shared by the heads)." },
            ]
          : []),
        ...(rope
          ? [
              { name: "cos", type: "tf.Tensor2D", doc: `cos(pos · base^(-2i/${rope.dims})) for every position and pair i: (T, ${rope.dims / 2}).` },
              { name: "sin", type: "tf.Tensor2D", doc: "The sines of the same angles." },
            ]
          : []),
        ...(proj ? [{ name: "proj", type: "Linear", doc: "Mixes what the heads found, back into the residual stream's width." }] : []),
        ...(withDropout ? [{ name: "dropoutRate", type: "number" }] : []),
      ],
      ctorParams: [{ name: "o", type: `{ nIn: number; heads: number; kvHeads: number; headSize: number${withDropout ? "; dropout: number" : ""} }` }],
      ctorBody: [
        "this.heads = o.heads;",
        "this.kvHeads = o.kvHeads;",
        "this.headSize = o.headSize;",
        node.scale ? "this.scale = o.headSize ** -0.5;" : "this.scale = 1;",
        `this.query = this.module("query", new Linear(o.nIn, o.heads * o.headSize${bias}));`,
        `this.key = this.module("key", new Linear(o.nIn, o.kvHeads * o.headSize${bias}));`,
        `this.value = this.module("value", new Linear(o.nIn, o.kvHeads * o.headSize${bias}));`,
        ...(norm ? [`this.qNorm = this.module("q_norm", new ${norm}(o.headSize, ${num(QK_NORM_EPS)}));`, `this.kNorm = this.module("k_norm", new ${norm}(o.headSize, ${num(QK_NORM_EPS)}));`] : []),
        ...(rope
          ? [
              `const [cos, sin] = rotaryTables(config.blockSize, ${rope.dims}, ${num(rope.base)}); // (T, ${rope.dims / 2}) each: rotate ${rope.dims} of the head's dimensions`,
              `this.cos = this.buffer("cos", cos);`,
              `this.sin = this.buffer("sin", sin);`,
            ]
          : []),
        ...(proj ? [`this.proj = this.module("proj", new Linear(o.heads * o.headSize, o.nIn${node.projectionBias ? "" : ", false"}));`] : []),
        ...(withDropout ? ["this.dropoutRate = o.dropout;"] : []),
      ],
      methods: [
        {
          name: "forward",
          params: [{ name: "x", type: "tf.Tensor3D" }, CACHE_PARAM],
          returns: "tf.Tensor3D",
          body: [
            "const [B, T] = x.shape;",
            "const split = (t: tf.Tensor3D, heads: number): tf.Tensor4D => tf.transpose(tf.reshape(t, [B, T, heads, this.headSize]), [0, 2, 1, 3]) as tf.Tensor4D;",
            "let q = split(this.query.forward(x), this.heads); // (B, nh, T, hs)",
            "let k = split(this.key.forward(x), this.kvHeads); // (B, nkv, T, hs)",
            "let v = split(this.value.forward(x), this.kvHeads); // (B, nkv, T, hs)",
            ...(norm ? [`q = ${applyNorm("q", "qNorm")}; // (B, nh, T, hs): each head's query normalized`, `k = ${applyNorm("k", "kNorm")}; // (B, nkv, T, hs)`] : []),
            ...(rope
              ? [
                  "// Rotate by position; while sampling, x's positions start after the cached ones.",
                  "q = rope(q, this.cos, this.sin, cache?.past); // (B, nh, T, hs)",
                  "k = rope(k, this.cos, this.sin, cache?.past); // (B, nkv, T, hs)",
                ]
              : []),
            "// While sampling, the keys and values of the positions before x's come from the cache.",
            "if (cache) ({ k, v } = cache.append(this, k, v)); // (B, nkv, past+T, hs)",
            "// softmax(causalMask(q·kᵀ · scale))·v per head, query head h reading kv head floor(h / (nh / nkv))",
            "// (runtime/ops/causal-attention.ts has its math in tf ops).",
            `const y = causalAttention(q, k, v, this.scale${withDropout ? ", this.dropoutRate, this.training" : ""}); // (B, nh, T, hs)`,
            `${proj ? "const out =" : "return"} tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B, T, this.heads * this.headSize]) as tf.Tensor3D; // (B, T, nh*hs): the heads side by side`,
            ...projectOut(proj, withDropout),
          ],
        },
      ],
    }),
  );
  const args: [string, string][] = [
    ["nIn", ctx.size(node.inWidth, scope)],
    ["heads", String(node.heads)],
    ["kvHeads", String(node.kvHeads)],
    ["headSize", String(node.headSize)],
  ];
  if (withDropout) args.push(["dropout", num(node.dropout)]);
  return [moduleMember(node.name, cls, args)];
}

/** The heads' output through the output projection (and its dropout), the forward's last line; nothing without a projection. */
function projectOut(proj: boolean, withDropout: boolean): string[] {
  if (!proj) return [];
  return [withDropout ? "return dropout(this.proj.forward(out), this.dropoutRate, this.training); // (B, T, C)" : "return this.proj.forward(out); // (B, T, C)"];
}

// multi_head_attention: several heads side by side, each free to attend to something different; their
// outputs are concatenated and (optionally) projected back to the input width. Beyond the lecture's
// layer: grouped-query attention (kv_heads), rotary positions (rope), normalized queries and keys
// (qk_norm), and biases on every projection or none.
import type { MultiHeadAttentionSpec } from "../../spec/types.generated.js";
import { NO_CHILDREN, type NodeDef, type ParamDecl } from "../node-def.js";
import { resolveWidth, type Width } from "../width.js";
import { headCost, headParams } from "./attention-head.js";
import { linearParams } from "./feed-forward.js";
import { requireActivations, requireNumeric } from "./require.js";
import type { MultiHeadAttentionNode, Rope } from "./types.js";

/** RoFormer's base, and Llama's. */
const ROPE_BASE = 10000;

export const multiHeadAttention: NodeDef<"multi_head_attention"> = {
  kind: "multi_head_attention",
  readsPositions: true,
  attentionHeads: (node) => node.heads,
  defaultName: () => "attn",
  lower(spec: MultiHeadAttentionSpec, ctx) {
    const inWidth = requireActivations(ctx, "multi_head_attention");
    let headSize = spec.head_size;
    if (headSize === undefined) {
      const width = requireNumeric(ctx, inWidth, "head_size", "head_size");
      if (width % spec.heads !== 0) {
        throw ctx.error(`input width ${width} is not divisible by ${spec.heads} heads; choose heads that divide it or set head_size`, "heads");
      }
      headSize = width / spec.heads;
    }
    const kvHeads = spec.kv_heads ?? spec.heads;
    if (spec.heads % kvHeads !== 0) {
      throw ctx.error(`kv_heads ${kvHeads} does not divide heads ${spec.heads}: each key/value head must serve the same number of query heads`, "kv_heads");
    }
    let rope: Rope | undefined;
    if (spec.rope !== false) {
      const options = spec.rope === true ? {} : spec.rope;
      const fraction = options.fraction ?? 1;
      const dims = headSize * fraction;
      if (!Number.isInteger(dims) || dims % 2 !== 0) {
        const what = fraction === 1 ? `head size ${headSize} is odd` : `fraction ${fraction} of head size ${headSize} is ${dims}, not an even whole number`;
        throw ctx.error(`rope rotates pairs of dimensions, but the ${what}; choose an even number of dimensions to rotate`, "rope");
      }
      rope = { base: options.base ?? ROPE_BASE, dims };
    }
    const qkNorm = spec.qk_norm === false ? undefined : spec.qk_norm;
    if (spec.zero_init && !spec.projection) throw ctx.error("zero_init starts the output projection at zero, but this layer has none (projection: false)", "zero_init");
    const layout = kvHeads !== spec.heads || rope !== undefined || qkNorm !== undefined ? "fused" : "heads";
    return {
      kind: "multi_head_attention",
      name: ctx.name,
      inWidth,
      heads: spec.heads,
      headSize,
      kvHeads,
      layout,
      qkvBias: spec.bias ?? false,
      projection: spec.projection,
      projectionBias: spec.bias ?? true,
      rope,
      qkNorm,
      scale: spec.scale,
      dropout: spec.dropout ?? ctx.defaultDropout,
      window: spec.window,
      alibi: spec.alibi ?? false,
      softcap: spec.softcap,
      zeroInit: spec.zero_init ?? false,
    };
  },
  outWidth: (node) => (node.projection ? node.inWidth : node.heads * node.headSize),
  // In the order the module builds them.
  params(node) {
    const params: ParamDecl[] = [];
    const hs = node.headSize;
    if (node.layout === "heads") {
      for (let h = 0; h < node.heads; h++) params.push(...headParams(node.inWidth, hs, `heads.${h}.`, node.qkvBias));
    } else {
      params.push(...linearParams("query", node.heads * hs, node.inWidth, node.qkvBias));
      params.push(...linearParams("key", node.kvHeads * hs, node.inWidth, node.qkvBias));
      params.push(...linearParams("value", node.kvHeads * hs, node.inWidth, node.qkvBias));
      if (node.qkNorm) {
        for (const which of ["q_norm", "k_norm"]) {
          params.push({ name: `${which}.gamma`, shape: [hs] });
          if (node.qkNorm === "layer_norm") params.push({ name: `${which}.beta`, shape: [hs] });
        }
      }
    }
    if (node.projection) params.push(...linearParams("proj", node.inWidth, node.heads * hs, node.projectionBias));
    return params;
  },
  children: () => NO_CHILDREN,
  cost(node, dims) {
    const c = resolveWidth(node.inWidth, dims);
    const hs = node.headSize;
    const one = headCost(node.inWidth, hs, dims);
    // Key and value projections of the heads a kv head serves are computed once.
    const sharedKv = (node.heads - node.kvHeads) * 2 * 2 * c * hs;
    const rotate = node.rope ? 3 * node.rope.dims * (node.heads + node.kvHeads) : 0;
    const norm = node.qkNorm ? 4 * hs * (node.heads + node.kvHeads) : 0;
    const concat = node.heads * hs;
    const proj = node.projection ? 2 * concat * c : 0;
    const activations = node.heads * one.activations - (node.heads - node.kvHeads) * 2 * hs + concat;
    return { flops: node.heads * one.flops - sharedKv + rotate + norm + proj, activations };
  },
};

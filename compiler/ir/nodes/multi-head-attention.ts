// multi_head_attention: several heads side by side, each free to attend to something different; their
// outputs are concatenated and (optionally) projected back to the input width.
import type { MultiHeadAttentionSpec } from "../../spec/types.generated.js";
import { NO_CHILDREN, type NodeDef, type ParamDecl } from "../node-def.js";
import { resolveWidth, type Width } from "../width.js";
import { headCost, headParams } from "./attention-head.js";
import { requireActivations, requireNumeric } from "./require.js";

export interface MultiHeadAttentionNode {
  readonly kind: "multi_head_attention";
  readonly name: string;
  readonly inWidth: Width;
  readonly heads: number;
  readonly headSize: number;
  /** A linear map from heads × head_size back to the input width. */
  readonly projection: boolean;
  readonly scale: boolean;
  /** Dropout on the attention weights and after the projection. */
  readonly dropout: number;
}

export const multiHeadAttention: NodeDef<"multi_head_attention"> = {
  kind: "multi_head_attention",
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
    return {
      kind: "multi_head_attention",
      name: ctx.name,
      inWidth,
      heads: spec.heads,
      headSize,
      projection: spec.projection,
      scale: spec.scale,
      dropout: spec.dropout ?? ctx.defaultDropout,
    };
  },
  outWidth: (node) => (node.projection ? node.inWidth : node.heads * node.headSize),
  params(node) {
    const params: ParamDecl[] = [];
    for (let h = 0; h < node.heads; h++) params.push(...headParams(node.inWidth, node.headSize, `heads.${h}.`));
    if (node.projection) {
      params.push({ name: "proj.weight", shape: [node.inWidth, node.heads * node.headSize] });
      params.push({ name: "proj.bias", shape: [node.inWidth] });
    }
    return params;
  },
  children: () => NO_CHILDREN,
  cost(node, dims) {
    const one = headCost(node.inWidth, node.headSize, dims);
    const concat = node.heads * node.headSize;
    const proj = node.projection ? 2 * concat * resolveWidth(node.inWidth, dims) : 0;
    return { flops: node.heads * one.flops + proj, activations: node.heads * one.activations + concat };
  },
};

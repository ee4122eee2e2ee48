// attention_head: one head of causal self-attention. Each token emits a query ("what I look for") and a
// key ("what I contain"); their scaled dot products, masked to the past and softmaxed, weight the values.
import type { AttentionHeadSpec } from "../../spec/types.generated.js";
import { NO_CHILDREN, type Cost, type NodeDef, type ParamDecl } from "../node-def.js";
import { resolveWidth, type Dims, type Width } from "../width.js";
import { requireActivations, requireNumeric } from "./require.js";
import type { AttentionHeadNode } from "./types.js";

/** key, query and value projections of one head, without bias as in the lecture (or with). */
export function headParams(inWidth: Width, headSize: number, prefix = "", bias = false): ParamDecl[] {
  return ["key", "query", "value"].flatMap((p) => [
    { name: `${prefix}${p}.weight`, shape: [headSize, inWidth] },
    ...(bias ? [{ name: `${prefix}${p}.bias`, shape: [headSize] }] : []),
  ]);
}

/** Per token: three projections, T scores and a T-long weighted sum; keeps q, k, v, scores and weights. */
export function headCost(inWidth: Width, headSize: number, dims: Dims): Cost {
  const c = resolveWidth(inWidth, dims);
  return {
    flops: 3 * 2 * c * headSize + 2 * dims.T * headSize * 2 + 5 * dims.T,
    activations: 3 * headSize + 2 * dims.T + headSize,
  };
}

export const attentionHead: NodeDef<"attention_head"> = {
  kind: "attention_head",
  readsPositions: true,
  attentionHeads: () => 1,
  defaultName: () => "head",
  lower(spec: AttentionHeadSpec, ctx) {
    const inWidth = requireActivations(ctx, "attention_head");
    const headSize = spec.head_size ?? requireNumeric(ctx, inWidth, "head_size", "head_size");
    return {
      kind: "attention_head",
      name: ctx.name,
      inWidth,
      headSize,
      scale: spec.scale,
      dropout: spec.dropout ?? ctx.defaultDropout,
    };
  },
  outWidth: (node) => node.headSize,
  params: (node) => headParams(node.inWidth, node.headSize),
  children: () => NO_CHILDREN,
  cost: (node, dims) => headCost(node.inWidth, node.headSize, dims),
};

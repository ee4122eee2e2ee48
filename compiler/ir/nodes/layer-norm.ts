// layer_norm: per token, subtract the mean and divide by the standard deviation across its features,
// then scale by gamma and shift by beta. Unlike BatchNorm it keeps no batch statistics, so training and
// sampling compute the same thing.
import type { LayerNormSpec } from "../../spec/types.generated.js";
import { NO_CHILDREN, NO_PARAMS, type NodeDef } from "../node-def.js";
import { resolveWidth, type Width } from "../width.js";
import { requireActivations } from "./require.js";
import type { LayerNormNode } from "./types.js";

export const layerNorm: NodeDef<"layer_norm"> = {
  kind: "layer_norm",
  defaultName: () => "ln",
  lower(spec: LayerNormSpec, ctx) {
    const width = requireActivations(ctx, "layer_norm");
    return { kind: "layer_norm", name: ctx.name, width, eps: spec.eps, affine: spec.affine };
  },
  outWidth: (node) => node.width,
  params: (node) =>
    node.affine
      ? [
          { name: "gamma", shape: [node.width] },
          { name: "beta", shape: [node.width] },
        ]
      : NO_PARAMS,
  children: () => NO_CHILDREN,
  cost(node, dims) {
    const c = resolveWidth(node.width, dims);
    return { flops: 8 * c, activations: c + 2 };
  },
};

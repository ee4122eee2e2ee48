// rms_norm: per token, divide the features by their root mean square, then (optionally) scale each by a
// learned gain. No mean is subtracted and nothing is shifted: cheaper than layer_norm, and what Llama and
// most small transformers after it use. Without a gain it has no parameters (nanochat's norm).
import type { RmsNormSpec } from "../../spec/types.generated.js";
import { NO_CHILDREN, NO_PARAMS, type NodeDef } from "../node-def.js";
import { resolveWidth, type Width } from "../width.js";
import { requireActivations } from "./require.js";
import type { RmsNormNode } from "./types.js";

export const rmsNorm: NodeDef<"rms_norm"> = {
  kind: "rms_norm",
  defaultName: () => "norm",
  lower(spec: RmsNormSpec, ctx) {
    const width = requireActivations(ctx, "rms_norm");
    return { kind: "rms_norm", name: ctx.name, width, eps: spec.eps, scale: spec.scale };
  },
  outWidth: (node) => node.width,
  params: (node) => (node.scale ? [{ name: "gamma", shape: [node.width] }] : NO_PARAMS),
  children: () => NO_CHILDREN,
  cost(node, dims) {
    const c = resolveWidth(node.width, dims);
    // square, sum, rsqrt and a multiply per feature (and the gain's)
    return { flops: (node.scale ? 4 : 3) * c, activations: c + 1 };
  },
};

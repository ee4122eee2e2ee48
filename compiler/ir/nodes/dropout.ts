// dropout: while training, zero each activation with probability `rate` and scale the survivors by
// 1/(1-rate); at evaluation, pass through. A regularizer: no unit can rely on any one other.
import type { DropoutSpec } from "../../spec/types.generated.js";
import { NO_CHILDREN, NO_PARAMS, type NodeDef } from "../node-def.js";
import { resolveWidth, type Width } from "../width.js";
import { requireActivations } from "./require.js";
import type { DropoutNode } from "./types.js";

export const dropout: NodeDef<"dropout"> = {
  kind: "dropout",
  defaultName: () => "dropout",
  lower(spec: DropoutSpec, ctx) {
    const width = requireActivations(ctx, "dropout");
    return { kind: "dropout", name: ctx.name, width, rate: spec.rate ?? ctx.defaultDropout };
  },
  outWidth: (node) => node.width,
  params: () => NO_PARAMS,
  children: () => NO_CHILDREN,
  cost(node, dims) {
    const c = resolveWidth(node.width, dims);
    return node.rate > 0 ? { flops: 2 * c, activations: c } : { flops: 0, activations: 0 };
  },
};

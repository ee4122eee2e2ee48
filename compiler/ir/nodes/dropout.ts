// dropout: while training, zero each activation with probability `rate` and scale the survivors by
// 1/(1-rate); at evaluation, pass through. A regularizer: no unit can rely on any one other.
import type { DropoutSpec } from "../../spec/types.generated.js";
import { NO_CHILDREN, NO_PARAMS, type NodeDef } from "../node-def.js";
import { resolveWidth, type Width } from "../width.js";
import { requireActivations } from "./require.js";

export interface DropoutNode {
  readonly kind: "dropout";
  readonly width: Width;
  readonly rate: number;
}

export const dropout: NodeDef<"dropout"> = {
  kind: "dropout",
  defaultName: () => undefined,
  lower(spec: DropoutSpec, ctx) {
    const width = requireActivations(ctx, "dropout");
    return { kind: "dropout", width, rate: spec.rate ?? ctx.defaultDropout };
  },
  outWidth: (node) => node.width,
  params: () => NO_PARAMS,
  children: () => NO_CHILDREN,
  cost(node, dims) {
    const c = resolveWidth(node.width, dims);
    return node.rate > 0 ? { flops: 2 * c, activations: c } : { flops: 0, activations: 0 };
  },
};

// residual: x + body(x). The addition gives gradients a straight path from the loss back to early
// layers, which is what lets deep stacks train; the body must keep the width for the sum to exist.
import type { ResidualSpec } from "../../spec/types.generated.js";
import { NO_PARAMS, type NodeDef } from "../node-def.js";
import { resolveWidth, showWidth, type Width } from "../width.js";
import { requireActivations } from "./require.js";
import type { ResidualNode } from "./types.js";

export const residual: NodeDef<"residual"> = {
  kind: "residual",
  defaultName: () => undefined,
  lower(_spec: ResidualSpec, ctx) {
    const width = requireActivations(ctx, "residual");
    const body = ctx.lowerList("body", width, "same");
    if (body.output !== width) {
      throw ctx.error(`the residual body turns width ${showWidth(width)} into ${showWidth(body.output as Width)}, but x + body(x) needs the width kept`, "body");
    }
    return { kind: "residual", width, body: body.nodes };
  },
  outWidth: (node) => node.width,
  params: () => NO_PARAMS,
  children: (node) => [{ prefix: "", nodes: node.body }],
  cost: (node, dims) => ({ flops: resolveWidth(node.width, dims), activations: 0 }),
};

// block: a named group of layers that becomes one class of the generated code (the Transformer block).
import type { BlockSpec } from "../../spec/types.generated.js";
import { NO_PARAMS, type NodeDef } from "../node-def.js";
import type { Width } from "../width.js";
import { requireActivations } from "./require.js";
import type { BlockNode } from "./types.js";

export const block: NodeDef<"block"> = {
  kind: "block",
  defaultName: () => "block",
  lower(spec: BlockSpec, ctx) {
    const inWidth = requireActivations(ctx, "block");
    const body = ctx.lowerList("body", inWidth, "new");
    return { kind: "block", name: ctx.name, className: spec.class, inWidth, outWidth: body.output as Width, body: body.nodes };
  },
  outWidth: (node) => node.outWidth,
  params: () => NO_PARAMS,
  children: (node) => [{ prefix: "", nodes: node.body }],
  cost: () => ({ flops: 0, activations: 0 }),
};

// repeat: the body stacked `times` times, each copy with its own weights: the N× of the Transformer
// figure. The body becomes one block class (a spec's own block, or an implicit `Block`).
import type { RepeatSpec } from "../../spec/types.generated.js";
import { NO_PARAMS, type NodeDef } from "../node-def.js";
import { showWidth, type Width } from "../width.js";
import { requireActivations } from "./require.js";
import type { BlockNode, RepeatNode } from "./types.js";

export const repeat: NodeDef<"repeat"> = {
  kind: "repeat",
  defaultName: () => "blocks",
  lower(spec: RepeatSpec, ctx) {
    const width = requireActivations(ctx, "repeat");
    const body = ctx.lowerList("body", width, "new");
    if (body.output !== width) {
      throw ctx.error(`the repeated body turns width ${showWidth(width)} into ${showWidth(body.output as Width)}, so copies of it cannot be stacked`, "body");
    }
    const only = body.nodes.length === 1 ? body.nodes[0] : undefined;
    const block: BlockNode =
      only?.kind === "block"
        ? only
        : { kind: "block", name: "block", className: "Block", inWidth: width, outWidth: width, body: body.nodes };
    return { kind: "repeat", name: ctx.name, times: spec.times, width, block, shared: spec.shared ?? false };
  },
  outWidth: (node) => node.width,
  params: () => NO_PARAMS,
  // A shared repeat's weights are the first application's: its children are one copy, named under 0.
  children: (node) => Array.from({ length: node.shared ? 1 : node.times }, (_, i) => ({ prefix: String(i), nodes: node.block.body })),
  cost: () => ({ flops: 0, activations: 0 }),
};

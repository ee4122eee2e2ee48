// block → a class of its own (the Transformer block), whose fields are its body's layers; repeat builds
// one of it per copy.
import { readsPositions } from "../../ir/analysis.js";
import type { BlockNode } from "../../ir/nodes/index.js";
import { expr, type BuildContext, type Builder } from "../builder.js";
import { call, self, v, type Make } from "../nodes.js";

/** Declares the block's class (once per structure) and says how to build one. */
export function blockMake(node: BlockNode, ctx: BuildContext): Make {
  const name = ctx.useClass(node.className, "block", {
    doc: node.defined
      ? `The layers of ${node.defined}, a kind the spec defines.`
      : "A Transformer block: communication between positions (attention) followed by computation per position.",
    params: [],
    init: ctx.fieldsOf(node.body),
    forward: { rank: 3, cache: readsPositions(node), scoped: true, body: [...ctx.forwardOf(node.body, "x"), { kind: "return", value: v("x") }] },
  });
  return { kind: "class", name, args: [] };
}

export const block: Builder<BlockNode> = {
  fields: (node, ctx) => [{ kind: "module", name: node.name, make: blockMake(node, ctx) }],
  forward: (node, input) => expr(call(self(node.name), [input], readsPositions(node))),
};

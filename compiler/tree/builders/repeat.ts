// repeat → a list of block instances, each with its own weights, applied one after another.
import { readsPositions } from "../../ir/analysis.js";
import type { RepeatNode } from "../../ir/nodes/index.js";
import type { Builder } from "../builder.js";
import { call, self, v } from "../nodes.js";
import { blockMake } from "./block.js";

/** Names a forward already uses, which the loop variable must not take. */
const LOCALS = new Set(["x", "h", "idx", "targets", "logits", "loss", "self", "this", "config", "cache"]);

export const repeat: Builder<RepeatNode> = {
  fields: (node, ctx) => [
    {
      kind: "modules",
      name: node.name,
      count: ctx.config("n_layer", node.times, "Transformer blocks stacked one after another, each with its own weights.", node.name),
      make: blockMake(node.block, ctx),
    },
  ],
  forward(node, input, ctx) {
    const x = input.kind === "var" ? input.name : "x";
    const singular = node.name.endsWith("s") ? node.name.slice(0, -1) : "";
    const one = singular && !LOCALS.has(singular) && singular !== x ? singular : "block";
    return {
      kind: "stmts",
      stmts: [{ kind: "for", item: one, over: self(node.name), body: [{ kind: "set", name: x, value: call(v(one), [v(x)], readsPositions(node.block)), comment: ctx.shape(node.width) }] }],
    };
  },
};

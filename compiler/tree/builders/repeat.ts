// repeat → a list of block instances, each with its own weights, applied one after another.
import { readsPositions } from "../../ir/analysis.js";
import type { RepeatNode } from "../../ir/nodes/index.js";
import type { Builder } from "../builder.js";
import { call, self, v } from "../nodes.js";
import { blockMake } from "./block.js";

/** Names a forward already uses, which the loop variable must not take. */
const LOCALS = new Set(["x", "h", "idx", "targets", "logits", "loss", "self", "this", "config", "cache"]);

const TIMES_DOC = "Transformer blocks stacked one after another, each with its own weights.";
const SHARED_DOC = "Times the one block of shared weights is applied, one application after another.";

export const repeat: Builder<RepeatNode> = {
  fields: (node, ctx) => [
    {
      kind: "modules",
      name: node.name,
      count: ctx.config("n_layer", node.times, node.shared ? SHARED_DOC : TIMES_DOC, node.name),
      make: blockMake(node.block, ctx),
      ...(node.shared ? { shared: true, doc: "One block's weights, applied n_layer times (ALBERT, the Universal Transformer)." } : {}),
    },
  ],
  forward(node, input, ctx) {
    const x = input.kind === "var" ? input.name : "x";
    if (node.shared) {
      // The one block applied n_layer times; while sampling, each application keeps its own KV cache.
      const times = ctx.config("n_layer", node.times, SHARED_DOC, node.name);
      const cache = readsPositions(node.block) ? v("i") : false;
      const apply = call({ kind: "item", of: self(node.name), index: 0 }, [v(x)], cache);
      return { kind: "stmts", stmts: [{ kind: "times", index: "i", count: times, body: [{ kind: "set", name: x, value: apply, comment: ctx.shape(node.width) }] }] };
    }
    const singular = node.name.endsWith("s") ? node.name.slice(0, -1) : "";
    const one = singular && !LOCALS.has(singular) && singular !== x ? singular : "block";
    return {
      kind: "stmts",
      stmts: [{ kind: "for", item: one, over: self(node.name), body: [{ kind: "set", name: x, value: call(v(one), [v(x)], readsPositions(node.block)), comment: ctx.shape(node.width) }] }],
    };
  },
};

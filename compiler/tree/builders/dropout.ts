// dropout → a Dropout field and its call in forward; nothing at all when its rate is 0.
import type { DropoutNode } from "../../ir/nodes/index.js";
import { expr, NOTHING, type Builder } from "../builder.js";
import { dropout as dropoutLayer } from "../library.js";
import { CONFIG_DOCS } from "../config-docs.js";
import { call, self } from "../nodes.js";

export const dropout: Builder<DropoutNode> = {
  fields: (node, ctx) => (node.rate > 0 ? [{ kind: "module", name: node.name, make: dropoutLayer(ctx.config("dropout", node.rate, CONFIG_DOCS.dropout, node.name, true)) }] : []),
  forward: (node, input) => (node.rate > 0 ? expr(call(self(node.name), [input])) : NOTHING),
};


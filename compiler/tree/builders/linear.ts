// linear → a Linear field; with out: vocab it is the language-model head, and with tie_embeddings its
// weight is the token table.
import type { LinearNode } from "../../ir/nodes/index.js";
import { expr, type Builder } from "../builder.js";
import { linear as linearLayer, tiedLinear } from "../library.js";
import { call, self } from "../nodes.js";

export const linear: Builder<LinearNode> = {
  fields(node, ctx) {
    const nIn = ctx.width(node.inWidth, node.name, "in");
    const nOut = ctx.width(node.outWidth, node.name, "out");
    const make = node.tiedTo === undefined ? linearLayer(nIn, nOut, node.bias) : tiedLinear(nIn, nOut, node.bias, self(node.tiedTo));
    return [{ kind: "module", name: node.name, make }];
  },
  forward: (node, input) => expr(call(self(node.name), [input])),
};

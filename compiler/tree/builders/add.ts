// add → x + skip, or x + w·skip with the ScalarGain class (one learned scalar, starting at 1) as a field.
import type { AddNode } from "../../ir/nodes/index.js";
import { expr, type Builder } from "../builder.js";
import { call, num, self, v } from "../nodes.js";
import { add as addOp, mul } from "../ops/index.js";
import { skipVar } from "./save.js";

export const add: Builder<AddNode> = {
  fields(node, ctx) {
    if (!node.learned) return [];
    const name = ctx.useClass("ScalarGain", "norm", {
      doc: "One learned scalar that weighs a skip connection: forward is x · weight, and weight starts at 1 whatever the model's initialization, so the skip begins as a plain sum.",
      params: [],
      init: [{ kind: "parameter", name: "weight", shape: [num(1)], fill: 1, doc: "The skip's weight, (1,)." }],
      forward: { rank: "any", cache: false, scoped: false, body: [{ kind: "return", value: mul(v("x"), self("weight")) }] },
    });
    return [{ kind: "module", name: node.name, make: { kind: "class", name, args: [] } }];
  },
  forward(node, input, ctx) {
    const skip = v(skipVar(node.label));
    const comment = `${ctx.shape(node.width)}: x + ${node.learned ? "w·" : ""}${skipVar(node.label)}`;
    return expr(addOp(input, node.learned ? call(self(node.name), [skip]) : skip), comment);
  },
};

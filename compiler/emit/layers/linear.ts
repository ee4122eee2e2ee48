// linear → a Linear field; with out: vocab it is the language-model head.
import type { LinearNode } from "../../ir/nodes/index.js";
import { propertyName } from "../context.js";
import { expr, type LayerEmitter } from "../layer-emitter.js";

export const emitLinear: LayerEmitter<LinearNode> = {
  members: (node, ctx, scope) => [
    {
      property: propertyName(node.name),
      type: "Linear",
      init: `this.module("${node.name}", new Linear(${ctx.size(node.inWidth, scope)}, ${ctx.size(node.outWidth, scope)}${node.bias ? "" : ", false"}))`,
    },
  ],
  forward: (node, input) => expr(`this.${propertyName(node.name)}.forward(${input})`),
};

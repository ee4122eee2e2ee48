// linear → an nn.Linear attribute; with out: vocab it is the language-model head, and with
// tie_embeddings a TiedHead whose weight is the token table.
import type { LinearNode } from "../../ir/nodes/index.js";
import { callModule, moduleMember, type TorchLayerEmitter } from "../layer-emitter.js";

export const emitLinear: TorchLayerEmitter<LinearNode> = {
  members(node, ctx, scope) {
    if (node.tiedTo !== undefined) {
      ctx.useHelper("tied_head"); // declares the TiedHead class
      return [moduleMember(ctx.attr(node.name, scope), `TiedHead(self.${node.tiedTo}, bias=${node.bias ? "True" : "False"})`)];
    }
    return [moduleMember(ctx.attr(node.name, scope), `nn.Linear(${ctx.size(node.inWidth)}, ${ctx.size(node.outWidth)}${node.bias ? "" : ", bias=False"})`)];
  },
  forward: (node, input) => callModule(node.name, input),
};

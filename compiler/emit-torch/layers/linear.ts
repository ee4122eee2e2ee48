// linear → an nn.Linear attribute; with out: vocab it is the language-model head.
import type { LinearNode } from "../../ir/nodes/index.js";
import { callModule, moduleMember, type TorchLayerEmitter } from "../layer-emitter.js";

export const emitLinear: TorchLayerEmitter<LinearNode> = {
  members: (node, ctx, scope) => [moduleMember(ctx.attr(node.name, scope), `nn.Linear(${ctx.size(node.inWidth)}, ${ctx.size(node.outWidth)}${node.bias ? "" : ", bias=False"})`)],
  forward: (node, input) => callModule(node.name, input),
};

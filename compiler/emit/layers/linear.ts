// linear → a Linear field; with out: vocab it is the language-model head.
import type { LinearNode } from "../../ir/nodes/index.js";

import { callForward, type LayerEmitter, moduleMember } from "../layer-emitter.js";

export const emitLinear: LayerEmitter<LinearNode> = {
  runtime: ["Linear"],
  members: (node, ctx, scope) => [moduleMember(node.name, "Linear", `${ctx.size(node.inWidth, scope)}, ${ctx.size(node.outWidth, scope)}${node.bias ? "" : ", false"}`)],
  forward: (node, input) => callForward(node.name, input),
};

// linear → a Linear field; with out: vocab it is the language-model head, and with tie_embeddings its
// weight is the token table.
import type { LinearNode } from "../../ir/nodes/index.js";
import { propertyName } from "../context.js";
import { callForward, type LayerEmitter, moduleMember } from "../layer-emitter.js";

export const emitLinear: LayerEmitter<LinearNode> = {
  runtime: ["Linear"],
  members(node, ctx, scope) {
    const sizes = `${ctx.size(node.inWidth, scope)}, ${ctx.size(node.outWidth, scope)}`;
    if (node.tiedTo === undefined) return [moduleMember(node.name, "Linear", `${sizes}${node.bias ? "" : ", false"}`)];
    // The token table (vocab, C) is the weight (out, in): one parameter, trained and saved once.
    return [moduleMember(node.name, "Linear", `${sizes}, ${node.bias}, this.${propertyName(node.tiedTo)}.weight`)];
  },
  forward: (node, input) => callForward(node.name, input),
};

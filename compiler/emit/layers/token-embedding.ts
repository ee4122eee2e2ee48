// token_embedding → an Embedding field; forward looks up each token's row.
import type { TokenEmbeddingNode } from "../../ir/nodes/index.js";

import { callForward, type LayerEmitter, moduleMember } from "../layer-emitter.js";

export const emitTokenEmbedding: LayerEmitter<TokenEmbeddingNode> = {
  runtime: ["Embedding"],
  members: (node, ctx, scope) => [moduleMember(node.name, "Embedding", `${ctx.size("vocab", scope)}, ${ctx.size(node.dim, scope)}`)],
  forward: (node, input) => callForward(node.name, input),
};

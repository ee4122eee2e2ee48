// token_embedding → an Embedding field; forward looks up each token's row.
import type { TokenEmbeddingNode } from "../../ir/nodes/index.js";
import { propertyName } from "../context.js";
import { expr, type LayerEmitter } from "../layer-emitter.js";

export const emitTokenEmbedding: LayerEmitter<TokenEmbeddingNode> = {
  members: (node, ctx, scope) => [
    {
      property: propertyName(node.name),
      type: "Embedding",
      init: `this.module("${node.name}", new Embedding(${ctx.size("vocab", scope)}, ${ctx.size(node.dim, scope)}))`,
    },
  ],
  forward: (node, input) => expr(`this.${propertyName(node.name)}.forward(${input})`),
};

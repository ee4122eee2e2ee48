// token_embedding → an nn.Embedding attribute; forward looks up each token's row.
import type { TokenEmbeddingNode } from "../../ir/nodes/index.js";
import { callModule, moduleMember, type TorchLayerEmitter } from "../layer-emitter.js";

export const emitTokenEmbedding: TorchLayerEmitter<TokenEmbeddingNode> = {
  members: (node, ctx, scope) => [moduleMember(ctx.attr(node.name, scope), `nn.Embedding(${ctx.size("vocab")}, ${ctx.size(node.dim)})`)],
  forward: (node, input) => callModule(node.name, input),
};

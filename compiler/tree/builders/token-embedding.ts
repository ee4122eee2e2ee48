// token_embedding → an Embedding field (one row per vocabulary entry); forward looks up each token's row.
import type { TokenEmbeddingNode } from "../../ir/nodes/index.js";
import { expr, type Builder } from "../builder.js";
import { embedding } from "../library.js";
import { call, self } from "../nodes.js";

export const tokenEmbedding: Builder<TokenEmbeddingNode> = {
  fields: (node, ctx) => [{ kind: "module", name: node.name, make: embedding({ kind: "vocab" }, ctx.width(node.dim, node.name, "dim")) }],
  forward: (node, input) => expr(call(self(node.name), [input])),
};

// token_embedding → an Embedding field (one row per vocabulary entry); forward looks up each token's row.
import type { TokenEmbeddingNode } from "../../ir/nodes/index.js";
import { expr, type BuildContext, type Builder } from "../builder.js";
import { embedding } from "../library.js";
import { call, num, self, type Expr, type Init } from "../nodes.js";
import { mul } from "../ops/index.js";

/** The constant the rows are multiplied by: sqrt(dim), or the spec's number. */
function scale(node: TokenEmbeddingNode, ctx: BuildContext): Expr | undefined {
  if (node.scale === undefined) return undefined;
  if (node.scale !== "sqrt") return ctx.config("embedding_scale", node.scale, "The constant the token embedding's rows are multiplied by.", node.name, true);
  return { kind: "arith", op: "**", left: ctx.width(node.dim, node.name, "dim"), right: num(0.5, true) };
}

export const tokenEmbedding: Builder<TokenEmbeddingNode> = {
  fields(node, ctx) {
    const table: Init = { kind: "module", name: node.name, make: embedding({ kind: "vocab" }, ctx.width(node.dim, node.name, "dim")) };
    const s = scale(node, ctx);
    if (!s) return [table];
    const why = node.scale === "sqrt" ? "sqrt of the embedding's width, as the Transformer paper and Gemma scale it" : "from the spec";
    return [table, { kind: "value", name: `${node.name}_scale`, value: s, float: true, doc: `The rows' constant factor: ${why}.` }];
  },
  forward(node, input, ctx) {
    const rows = call(self(node.name), [input]);
    return node.scale === undefined ? expr(rows) : expr(mul(rows, self(`${node.name}_scale`)), `${ctx.shape(node.dim)}, scaled`);
  },
};

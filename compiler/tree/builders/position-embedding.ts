// position_embedding → a learned table (an Embedding over positions) or a fixed sinusoidal buffer;
// forward adds the rows of x's positions to every sequence of the batch.
import type { PositionEmbeddingNode } from "../../ir/nodes/index.js";
import { expr, type Builder } from "../builder.js";
import { embedding } from "../library.js";
import { num, self } from "../nodes.js";
import { add, embeddingRows, sinusoidalTable, tableRows } from "../ops/index.js";

export const positionEmbedding: Builder<PositionEmbeddingNode> = {
  fields(node, ctx) {
    const rows = node.blockSize === ctx.ir.blockSize ? ctx.config("block_size", node.blockSize, "", "model") : num(node.blockSize);
    const width = ctx.width(node.width, node.name);
    if (node.encoding === "learned") return [{ kind: "module", name: node.name, make: embedding(rows, width) }];
    // A buffer, not a parameter: neither trained nor saved.
    return [{ kind: "buffer", name: node.name, value: sinusoidalTable(rows, width), rank: 2 }];
  },
  forward(node, input, ctx) {
    const rows = node.encoding === "learned" ? embeddingRows(self(node.name), input) : tableRows(self(node.name), input);
    return expr(add(input, rows), `${ctx.shape(node.width)} + (T, ${ctx.dim(node.width)})`);
  },
};

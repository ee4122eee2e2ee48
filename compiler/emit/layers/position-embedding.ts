// position_embedding → a learned table (an Embedding over positions) or a fixed sinusoidal buffer; forward
// adds the first T rows to every sequence of the batch.
import type { PositionEmbeddingNode } from "../../ir/nodes/index.js";
import { propertyName } from "../context.js";
import { expr, type LayerEmitter, moduleMember } from "../layer-emitter.js";

export const emitPositionEmbedding: LayerEmitter<PositionEmbeddingNode> = {
  runtime: ["Embedding", "sinusoidalTable", "tf"],
  members(node, ctx, scope) {
    const width = ctx.size(node.width, scope);
    const rows = node.blockSize === ctx.ir.blockSize ? "config.blockSize" : String(node.blockSize);
    return node.encoding === "learned"
      ? [moduleMember(node.name, "Embedding", `${rows}, ${width}`)]
      : [{ property: propertyName(node.name), type: "tf.Tensor2D", init: `this.buffer("${node.name}", sinusoidalTable(${rows}, ${width}))` }];
  },
  forward(node, input, ctx) {
    const field = `this.${propertyName(node.name)}`;
    // While sampling, x holds the positions after the cached ones.
    const rows = node.encoding === "learned" ? `${field}.rows(${input}.shape[1], cache?.past)` : `tf.slice(${field}, [cache?.past ?? 0, 0], [${input}.shape[1], -1])`;
    return expr(`tf.add(${input}, ${rows})`, `// (B, T, ${ctx.dim(node.width)}) + (T, ${ctx.dim(node.width)})`);
  },
};

// position_embedding → a learned table (an nn.Embedding over positions) or a fixed sinusoidal buffer;
// forward adds the first T rows to every sequence of the batch.
import type { PositionEmbeddingNode } from "../../ir/nodes/index.js";
import { expr, moduleMember, type TorchLayerEmitter } from "../layer-emitter.js";

export const emitPositionEmbedding: TorchLayerEmitter<PositionEmbeddingNode> = {
  members(node, ctx, scope) {
    const attr = ctx.attr(node.name, scope);
    const rows = node.blockSize === ctx.ir.blockSize ? "config.block_size" : String(node.blockSize);
    const width = ctx.size(node.width);
    if (node.encoding === "learned") return [moduleMember(attr, `nn.Embedding(${rows}, ${width})`)];
    // A buffer, not a parameter: it moves with .to(device) but is neither trained nor saved, as in babygpt.
    return [{ kind: "buffer", attr, init: `${ctx.useHelper("sinusoidal_table")}(${rows}, ${width})` }];
  },
  forward(node, input, ctx) {
    const rows =
      node.encoding === "learned"
        ? `self.${node.name}(torch.arange(${input}.shape[1], device=${input}.device))`
        : `self.${node.name}[: ${input}.shape[1]]`;
    return expr(`${input} + ${rows}`, `# (B, T, ${ctx.dim(node.width)}) + (T, ${ctx.dim(node.width)})`);
  },
};

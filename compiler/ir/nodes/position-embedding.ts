// position_embedding: adds a vector per position 0..T-1 so attention, which is blind to order, can
// tell positions apart. Learned (a trained table) or sinusoidal (fixed, no parameters).
import type { PositionEmbeddingSpec } from "../../spec/types.generated.js";
import { NO_CHILDREN, NO_PARAMS, type NodeDef } from "../node-def.js";
import { resolveWidth, type Width } from "../width.js";
import { requireActivations } from "./require.js";
import type { PositionEmbeddingNode } from "./types.js";

export const positionEmbedding: NodeDef<"position_embedding"> = {
  kind: "position_embedding",
  readsPositions: true,
  defaultName: () => "position_embedding",
  lower(spec: PositionEmbeddingSpec, ctx) {
    const width = requireActivations(ctx, "position_embedding");
    return { kind: "position_embedding", name: ctx.name, encoding: spec.encoding, width, blockSize: ctx.blockSize };
  },
  outWidth: (node) => node.width,
  params: (node) => (node.encoding === "learned" ? [{ name: "weight", shape: [node.blockSize, node.width] }] : NO_PARAMS),
  children: () => NO_CHILDREN,
  cost: (node, dims) => ({ flops: resolveWidth(node.width, dims), activations: 0 }),
};

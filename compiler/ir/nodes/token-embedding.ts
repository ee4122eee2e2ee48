// token_embedding: a learned table with one row per vocabulary entry; (B, T) indices → (B, T, dim).
import type { TokenEmbeddingSpec } from "../../spec/types.generated.js";
import { NO_CHILDREN, type NodeDef } from "../node-def.js";
import { resolveWidth, type Width } from "../width.js";
import type { TokenEmbeddingNode } from "./types.js";

export const tokenEmbedding: NodeDef<"token_embedding"> = {
  kind: "token_embedding",
  defaultName: () => "token_embedding",
  lower(spec: TokenEmbeddingSpec, ctx) {
    if (ctx.input !== "tokens") {
      throw ctx.error(`token_embedding takes token indices (B, T), but its input here is already (B, T, ${ctx.input}); only the first layer can embed tokens`, "kind");
    }
    const dim = spec.dim ?? ctx.nEmbd;
    if (dim === undefined) throw ctx.error("token_embedding needs a dim, or model.n_embd to default to", "kind");
    return { kind: "token_embedding", name: ctx.name, dim, scale: spec.scale };
  },
  outWidth: (node) => node.dim,
  params: (node) => [{ name: "weight", shape: ["vocab", node.dim] }],
  children: () => NO_CHILDREN,
  cost: (node, dims) => ({ flops: 0, activations: resolveWidth(node.dim, dims) }),
};

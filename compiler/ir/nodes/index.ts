// The IR's layer nodes: one file per kind, gathered here into the union and the table of definitions.
// Adding a kind: its schema entry, its node type in types.ts, its definition here and a line in the table
// below, and its builder (ARCHITECTURE.md has the whole list).
import type { NodeDef } from "../node-def.js";
import { add } from "./add.js";
import { attentionHead } from "./attention-head.js";
import { block } from "./block.js";
import { dropout } from "./dropout.js";
import { feedForward } from "./feed-forward.js";
import { layerNorm } from "./layer-norm.js";
import { linear } from "./linear.js";
import { multiHeadAttention } from "./multi-head-attention.js";
import { parallel } from "./parallel.js";
import { positionEmbedding } from "./position-embedding.js";
import { repeat } from "./repeat.js";
import { residual } from "./residual.js";
import { rmsNorm } from "./rms-norm.js";
import { save } from "./save.js";
import { tokenEmbedding } from "./token-embedding.js";
import type { NodeKind } from "./types.js";

export type * from "./types.js";

/** Every kind's definition; the mapped type makes a missing kind a type error. */
export const NODE_DEFS: { readonly [K in NodeKind]: NodeDef<K> } = {
  add,
  attention_head: attentionHead,
  block,
  dropout,
  feed_forward: feedForward,
  layer_norm: layerNorm,
  linear,
  multi_head_attention: multiHeadAttention,
  parallel,
  position_embedding: positionEmbedding,
  repeat,
  residual,
  rms_norm: rmsNorm,
  save,
  token_embedding: tokenEmbedding,
};

export function nodeDef<K extends NodeKind>(kind: K): NodeDef<K> {
  return NODE_DEFS[kind] as NodeDef<K>;
}

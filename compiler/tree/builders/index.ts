// One builder per IR node kind, in a table the type checker holds complete: a kind without a builder here
// fails to compile.
import type { IrNode, NodeKind, NodeOf } from "../../ir/nodes/index.js";
import type { Builder } from "../builder.js";
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

const BUILDERS: { readonly [K in NodeKind]: Builder<NodeOf<K>> } = {
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

export function builderOf(node: IrNode): Builder<IrNode> {
  return BUILDERS[node.kind] as Builder<IrNode>;
}

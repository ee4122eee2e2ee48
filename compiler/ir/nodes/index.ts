// The IR's layer nodes: one file per kind, gathered here into the union and the table of definitions.
// Adding a kind: its schema entry, its file here, one line in each list below, and its emitters
// (ARCHITECTURE.md has the whole list).
import type { LayerSpec } from "../../spec/types.generated.js";
import type { NodeDef } from "../node-def.js";
import { attentionHead, type AttentionHeadNode } from "./attention-head.js";
import { block, type BlockNode } from "./block.js";
import { dropout, type DropoutNode } from "./dropout.js";
import { feedForward, type FeedForwardNode } from "./feed-forward.js";
import { layerNorm, type LayerNormNode } from "./layer-norm.js";
import { linear, type LinearNode } from "./linear.js";
import { multiHeadAttention, type MultiHeadAttentionNode } from "./multi-head-attention.js";
import { positionEmbedding, type PositionEmbeddingNode } from "./position-embedding.js";
import { repeat, type RepeatNode } from "./repeat.js";
import { residual, type ResidualNode } from "./residual.js";
import { rmsNorm, type RmsNormNode } from "./rms-norm.js";
import { tokenEmbedding, type TokenEmbeddingNode } from "./token-embedding.js";

export type {
  AttentionHeadNode,
  BlockNode,
  DropoutNode,
  FeedForwardNode,
  LayerNormNode,
  LinearNode,
  MultiHeadAttentionNode,
  PositionEmbeddingNode,
  RepeatNode,
  ResidualNode,
  RmsNormNode,
  TokenEmbeddingNode,
};

/** Layers that read token indices or add position information. */
export type EmbeddingNode = TokenEmbeddingNode | PositionEmbeddingNode;
/** Layers that mix information across positions. */
export type AttentionNode = AttentionHeadNode | MultiHeadAttentionNode;
/** Per-token layers. */
export type PointwiseNode = FeedForwardNode | LayerNormNode | RmsNormNode | DropoutNode | LinearNode;
/** Layers made of other layers. */
export type ContainerNode = ResidualNode | RepeatNode | BlockNode;

export type IrNode = EmbeddingNode | AttentionNode | PointwiseNode | ContainerNode;
export type NodeKind = IrNode["kind"];
export type NodeOf<K extends NodeKind> = Extract<IrNode, { kind: K }>;
export type LayerSpecOf<K extends NodeKind> = Extract<LayerSpec, { kind: K }>;

/** Every kind's definition; the mapped type makes a missing kind a type error. */
export const NODE_DEFS: { readonly [K in NodeKind]: NodeDef<K> } = {
  attention_head: attentionHead,
  block,
  dropout,
  feed_forward: feedForward,
  layer_norm: layerNorm,
  linear,
  multi_head_attention: multiHeadAttention,
  position_embedding: positionEmbedding,
  repeat,
  residual,
  rms_norm: rmsNorm,
  token_embedding: tokenEmbedding,
};

export function nodeDef<K extends NodeKind>(kind: K): NodeDef<K> {
  return NODE_DEFS[kind] as NodeDef<K>;
}

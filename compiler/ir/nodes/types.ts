// The IR's layer nodes as types: every kind's node and the closed union of them. They live in one file,
// apart from the kinds' definitions (nodes/<kind>.ts), because the nodes that hold others (residual,
// block, repeat) hold the union: kept with their definitions, they would import the union that imports
// them.
import type { FeedForwardSpec, LayerSpec } from "../../spec/types.generated.js";
import type { Width } from "../width.js";

export interface AttentionHeadNode {
  readonly kind: "attention_head";
  readonly name: string;
  readonly inWidth: Width;
  readonly headSize: number;
  /** Multiply scores by 1/sqrt(head_size). */
  readonly scale: boolean;
  /** Dropout on the attention weights. */
  readonly dropout: number;
}

export interface BlockNode {
  readonly kind: "block";
  readonly name: string;
  readonly className: string;
  /** The spec's own kind (define:) this block was inserted for, if it was. */
  readonly defined?: string;
  readonly inWidth: Width;
  readonly outWidth: Width;
  readonly body: readonly IrNode[];
}

export interface DropoutNode {
  readonly kind: "dropout";
  /** The name of the dropout module; it holds no parameters, so the name is in no parameter's path. */
  readonly name: string;
  readonly width: Width;
  readonly rate: number;
}

export type Activation = FeedForwardSpec["activation"];

export interface FeedForwardNode {
  readonly kind: "feed_forward";
  readonly name: string;
  readonly width: Width;
  readonly hidden: number;
  readonly activation: Activation;
  /** A third matrix, gate, whose activation multiplies the up projection fc. */
  readonly gated: boolean;
  /** Biases on fc, gate and proj. */
  readonly bias: boolean;
  /** Dropout after the second linear layer (with experts, after their weighted sum). */
  readonly dropout: number;
  /** The last projection starts at zero. */
  readonly zeroInit: boolean;
  /** A mixture of experts: each expert is the MLP the keys above describe, behind a router. */
  readonly moe?: MixtureOfExperts;
}

/** feed_forward's experts, top_k and aux_loss. */
export interface MixtureOfExperts {
  /** E: copies of the MLP, each with its own weights. */
  readonly experts: number;
  /** K: the experts each token runs, the router's K most probable. */
  readonly topK: number;
  /** α of the load-balancing loss added to the training loss (0: none). */
  readonly auxLoss: number;
}

export interface LayerNormNode {
  readonly kind: "layer_norm";
  readonly name: string;
  readonly width: Width;
  readonly eps: number;
  /** Learn gamma and beta. */
  readonly affine: boolean;
}

export interface LinearNode {
  readonly kind: "linear";
  readonly name: string;
  readonly inWidth: Width;
  readonly outWidth: Width;
  readonly bias: boolean;
  /**
   * With model.tie_embeddings, the name of the token_embedding whose table is this layer's weight: the
   * layer then owns only its bias.
   */
  readonly tiedTo?: string;
}

/** Rotary position embedding: the leading `dims` of each query and key head rotate by position. */
export interface Rope {
  readonly base: number;
  /** Dimensions of a head that rotate: even, at most head_size. */
  readonly dims: number;
}

export interface MultiHeadAttentionNode {
  readonly kind: "multi_head_attention";
  readonly name: string;
  readonly inWidth: Width;
  readonly heads: number;
  readonly headSize: number;
  /** Key/value heads; each serves heads / kvHeads query heads. Equal to heads for plain attention. */
  readonly kvHeads: number;
  /**
   * "heads": the lecture's layout, a module per head with its own key, query and value
   * (heads.<i>.query.weight). "fused": one query, key and value projection for all heads
   * (query.weight of heads × head_size rows), as grouped-query, rotary and qk-normed attention need.
   */
  readonly layout: "heads" | "fused";
  /** Biases on the query, key and value projections. */
  readonly qkvBias: boolean;
  /** A linear map from heads × head_size back to the input width. */
  readonly projection: boolean;
  readonly projectionBias: boolean;
  readonly rope: Rope | undefined;
  readonly qkNorm: "rms_norm" | "layer_norm" | undefined;
  readonly scale: boolean;
  /** Dropout on the attention weights and after the projection. */
  readonly dropout: number;
  /** Sliding window: each position attends to itself and the window − 1 before it; undefined: all before it. */
  readonly window: number | undefined;
  /** ALiBi's linear bias on the scores, one slope per head. */
  readonly alibi: boolean;
  /** Scores capped smoothly: s → softcap·tanh(s / softcap). */
  readonly softcap: number | undefined;
  /** The output projection starts at zero. */
  readonly zeroInit: boolean;
}

export interface PositionEmbeddingNode {
  readonly kind: "position_embedding";
  readonly name: string;
  readonly encoding: "learned" | "sinusoidal";
  readonly width: Width;
  /** Rows of the table: one per position up to the context length. */
  readonly blockSize: number;
}

export interface RepeatNode {
  readonly kind: "repeat";
  readonly name: string;
  readonly times: number;
  readonly width: Width;
  /** One copy of the body; the generated code builds `times` of them, or one when shared. */
  readonly block: BlockNode;
  /** One copy's weights applied `times` times. */
  readonly shared: boolean;
}

export interface ResidualNode {
  readonly kind: "residual";
  readonly width: Width;
  readonly body: readonly IrNode[];
}

export interface RmsNormNode {
  readonly kind: "rms_norm";
  readonly name: string;
  readonly width: Width;
  readonly eps: number;
  /** Learn a per-feature gain gamma. */
  readonly scale: boolean;
}

export interface TokenEmbeddingNode {
  readonly kind: "token_embedding";
  readonly name: string;
  /** Width of each row: n_embd, or the vocabulary itself for a bigram model. */
  readonly dim: Width;
  /** A constant the looked-up rows are multiplied by: sqrt of dim, or a number; undefined for none. */
  readonly scale: "sqrt" | number | undefined;
}

export interface ParallelNode {
  readonly kind: "parallel";
  readonly inWidth: Width;
  readonly outWidth: Width;
  /** Each branch reads the node's input; their outputs are summed. */
  readonly branches: readonly (readonly IrNode[])[];
}

export interface SaveNode {
  readonly kind: "save";
  /** The label an add reads it back by (a string of letters, digits and underscores). */
  readonly label: string;
  readonly width: Width;
}

export interface AddNode {
  readonly kind: "add";
  /** Its name in parameter paths (<name>.weight when learned). */
  readonly name: string;
  readonly label: string;
  readonly width: Width;
  /** Times a learned scalar, which starts at 1. */
  readonly learned: boolean;
}

/** Layers that read token indices or add position information. */
export type EmbeddingNode = TokenEmbeddingNode | PositionEmbeddingNode;
/** Layers that mix information across positions. */
export type AttentionNode = AttentionHeadNode | MultiHeadAttentionNode;
/** Per-token layers. */
export type PointwiseNode = FeedForwardNode | LayerNormNode | RmsNormNode | DropoutNode | LinearNode;
/** Layers made of other layers. */
export type ContainerNode = ResidualNode | RepeatNode | BlockNode | ParallelNode;
/** Skips from an earlier layer: the stream recorded, and added back. */
export type SkipNode = SaveNode | AddNode;

export type IrNode = EmbeddingNode | AttentionNode | PointwiseNode | ContainerNode | SkipNode;
export type NodeKind = IrNode["kind"];
export type NodeOf<K extends NodeKind> = Extract<IrNode, { kind: K }>;
export type LayerSpecOf<K extends NodeKind> = Extract<LayerSpec, { kind: K }>;

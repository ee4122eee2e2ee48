// One PyTorch emitter per IR node kind, in a table the type checker holds complete: a kind without an
// emitter here fails to compile.
import type { IrNode, NodeKind, NodeOf } from "../../ir/nodes/index.js";
import type { Scope, TorchContext } from "../context.js";
import type { Member, Step, TorchLayerEmitter } from "../layer-emitter.js";
import { emitAttentionHead } from "./attention-head.js";
import { emitBlock } from "./block.js";
import { emitDropout } from "./dropout.js";
import { emitFeedForward } from "./feed-forward.js";
import { emitLayerNorm } from "./layer-norm.js";
import { emitLinear } from "./linear.js";
import { emitMultiHeadAttention } from "./multi-head-attention.js";
import { emitPositionEmbedding } from "./position-embedding.js";
import { emitRepeat } from "./repeat.js";
import { emitResidual } from "./residual.js";
import { emitRmsNorm } from "./rms-norm.js";
import { emitTokenEmbedding } from "./token-embedding.js";

const EMITTERS: { readonly [K in NodeKind]: TorchLayerEmitter<NodeOf<K>> } = {
  attention_head: emitAttentionHead,
  block: emitBlock,
  dropout: emitDropout,
  feed_forward: emitFeedForward,
  layer_norm: emitLayerNorm,
  linear: emitLinear,
  multi_head_attention: emitMultiHeadAttention,
  position_embedding: emitPositionEmbedding,
  repeat: emitRepeat,
  residual: emitResidual,
  rms_norm: emitRmsNorm,
  token_embedding: emitTokenEmbedding,
};

function emitterOf(node: IrNode): TorchLayerEmitter<IrNode> {
  return EMITTERS[node.kind] as TorchLayerEmitter<IrNode>;
}

export function emitMembers(node: IrNode, ctx: TorchContext, scope: Scope): readonly Member[] {
  return emitterOf(node).members(node, ctx, scope);
}

export function emitForward(node: IrNode, input: string, ctx: TorchContext, scope: Scope): Step {
  return emitterOf(node).forward(node, input, ctx, scope);
}

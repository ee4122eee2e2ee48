// One emitter per IR node kind, behind an exhaustive switch: a kind without an emitter fails to compile.
import type { IrNode } from "../../ir/nodes/index.js";
import type { EmitContext, Scope } from "../context.js";
import type { Member, Step } from "../layer-emitter.js";
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
import { emitTokenEmbedding } from "./token-embedding.js";

export function emitMembers(node: IrNode, ctx: EmitContext, scope: Scope): readonly Member[] {
  switch (node.kind) {
    case "token_embedding":
      return emitTokenEmbedding.members(node, ctx, scope);
    case "position_embedding":
      return emitPositionEmbedding.members(node, ctx, scope);
    case "attention_head":
      return emitAttentionHead.members(node, ctx, scope);
    case "multi_head_attention":
      return emitMultiHeadAttention.members(node, ctx, scope);
    case "feed_forward":
      return emitFeedForward.members(node, ctx, scope);
    case "layer_norm":
      return emitLayerNorm.members(node, ctx, scope);
    case "dropout":
      return emitDropout.members(node, ctx, scope);
    case "linear":
      return emitLinear.members(node, ctx, scope);
    case "residual":
      return emitResidual.members(node, ctx, scope);
    case "repeat":
      return emitRepeat.members(node, ctx, scope);
    case "block":
      return emitBlock.members(node, ctx, scope);
    default:
      return unreachable(node);
  }
}

export function emitForward(node: IrNode, input: string, ctx: EmitContext, scope: Scope): Step {
  switch (node.kind) {
    case "token_embedding":
      return emitTokenEmbedding.forward(node, input, ctx, scope);
    case "position_embedding":
      return emitPositionEmbedding.forward(node, input, ctx, scope);
    case "attention_head":
      return emitAttentionHead.forward(node, input, ctx, scope);
    case "multi_head_attention":
      return emitMultiHeadAttention.forward(node, input, ctx, scope);
    case "feed_forward":
      return emitFeedForward.forward(node, input, ctx, scope);
    case "layer_norm":
      return emitLayerNorm.forward(node, input, ctx, scope);
    case "dropout":
      return emitDropout.forward(node, input, ctx, scope);
    case "linear":
      return emitLinear.forward(node, input, ctx, scope);
    case "residual":
      return emitResidual.forward(node, input, ctx, scope);
    case "repeat":
      return emitRepeat.forward(node, input, ctx, scope);
    case "block":
      return emitBlock.forward(node, input, ctx, scope);
    default:
      return unreachable(node);
  }
}

function unreachable(node: never): never {
  throw new Error(`no emitter for ${JSON.stringify(node)}`);
}

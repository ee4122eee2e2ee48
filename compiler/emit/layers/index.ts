// One emitter per IR node kind, behind one exhaustive switch: a kind without an emitter fails to compile.
import type { IrNode } from "../../ir/nodes/index.js";
import type { EmitContext, Scope } from "../context.js";
import type { LayerEmitter, Member, Step } from "../layer-emitter.js";
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

/** Calls `use` with the node and its kind's emitter, typed together. */
function withEmitter<R>(node: IrNode, use: <N extends IrNode>(emitter: LayerEmitter<N>, node: N) => R): R {
  switch (node.kind) {
    case "token_embedding":
      return use(emitTokenEmbedding, node);
    case "position_embedding":
      return use(emitPositionEmbedding, node);
    case "attention_head":
      return use(emitAttentionHead, node);
    case "multi_head_attention":
      return use(emitMultiHeadAttention, node);
    case "feed_forward":
      return use(emitFeedForward, node);
    case "layer_norm":
      return use(emitLayerNorm, node);
    case "dropout":
      return use(emitDropout, node);
    case "linear":
      return use(emitLinear, node);
    case "residual":
      return use(emitResidual, node);
    case "repeat":
      return use(emitRepeat, node);
    case "block":
      return use(emitBlock, node);
    default:
      return unreachable(node);
  }
}

export function emitMembers(node: IrNode, ctx: EmitContext, scope: Scope): readonly Member[] {
  return withEmitter(node, (emitter, n) => emitter.members(n, ctx, scope));
}

export function emitForward(node: IrNode, input: string, ctx: EmitContext, scope: Scope): Step {
  return withEmitter(node, (emitter, n) => emitter.forward(n, input, ctx, scope));
}

function unreachable(node: never): never {
  throw new Error(`no emitter for ${JSON.stringify(node)}`);
}

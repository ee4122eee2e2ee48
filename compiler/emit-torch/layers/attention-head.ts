// attention_head → the Head class (one head of causal self-attention) and an attribute holding one. The
// attention itself is causal_self_attention, the module-level function multi-head attention calls too.
import type { AttentionHeadNode } from "../../ir/nodes/index.js";
import type { TorchContext } from "../context.js";
import { callModule, moduleMember, type TorchLayerEmitter } from "../layer-emitter.js";
import { pyNum } from "../python.js";

const PROJECTIONS = [
  "self.key = nn.Linear(n_in, head_size, bias=False)  # what a position offers to be found by",
  "self.query = nn.Linear(n_in, head_size, bias=False)  # what a position is looking for",
  "self.value = nn.Linear(n_in, head_size, bias=False)  # what a position passes on when attended to",
];

/**
 * The Head class: with `attends`, a head that attends on its own (its forward runs causal_self_attention
 * with the given scale and dropout); without, the three projections of one head of a multi-head layer,
 * which computes every head at once and never calls a head's forward.
 */
export function useHeadClass(ctx: TorchContext, attends?: { readonly scale: boolean; readonly withDropout: boolean }, bias = false): string {
  if (!attends) {
    return ctx.useClass("Head", bias ? "projections,bias" : "projections", "head", (name) => ({
      name,
      doc: `The key, query and value projections of one attention head${bias ? " (with biases)" : ""} (MultiHeadAttention computes all heads at once from them).`,
      params: "n_in: int, head_size: int",
      init: bias ? PROJECTIONS.map((line) => line.replace(", bias=False)", ")")) : PROJECTIONS,
    }));
  }
  const { scale, withDropout } = attends;
  const attention = ctx.useHelper("causal_self_attention");
  return ctx.useClass("Head", `scale=${scale},dropout=${withDropout}`, "head", (name) => ({
    name,
    doc: "One head of causal self-attention: each position mixes the values of the positions before it, weighted by how well its query matches their keys.",
    params: `n_in: int, head_size: int${withDropout ? ", dropout: float" : ""}`,
    init: [...PROJECTIONS, ...(withDropout ? ["self.dropout = dropout  # on the attention weights, while training"] : [])],
    forward: [
      scale
        ? "# Scores q·k scaled by 1/sqrt(hs), so their variance stays near 1 and softmax does not saturate."
        : "# Scores q·k, unscaled: their variance grows with the head size.",
      `return ${attention}(x, [self], scale=${scale ? "True" : "False"}${withDropout ? ", dropout=self.dropout, training=self.training" : ""})  # (B, T, hs)`,
    ],
  }));
}

export const emitAttentionHead: TorchLayerEmitter<AttentionHeadNode> = {
  members(node, ctx, scope) {
    const cls = useHeadClass(ctx, { scale: node.scale, withDropout: node.dropout > 0 });
    const dropout = node.dropout > 0 ? `, ${pyNum(node.dropout)}` : "";
    return [moduleMember(ctx.attr(node.name, scope), `${cls}(${ctx.size(node.inWidth)}, ${node.headSize}${dropout})`)];
  },
  forward: (node, input) => callModule(node.name, input),
};

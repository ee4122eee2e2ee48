// multi_head_attention → the MultiHeadAttention class: heads side by side (each its own key, query and
// value, as babygpt names them), concatenated and projected; causal_self_attention computes them all.
import type { MultiHeadAttentionNode } from "../../ir/nodes/index.js";
import { callModule, moduleMember, type TorchLayerEmitter } from "../layer-emitter.js";
import { pyNum } from "../python.js";
import { useHeadClass } from "./attention-head.js";

export const emitMultiHeadAttention: TorchLayerEmitter<MultiHeadAttentionNode> = {
  members(node, ctx, scope) {
    const withDropout = node.dropout > 0;
    const head = useHeadClass(ctx);
    const attention = ctx.useHelper("causal_self_attention");
    const proj = node.projection;
    const scale = node.scale ? "True" : "False";
    const cls = ctx.useClass("MultiHeadAttention", `head=${head},projection=${proj},scale=${node.scale},dropout=${withDropout}`, "attention", (name) => ({
      name,
      doc: `Several heads of attention in parallel${proj ? ", their outputs concatenated and projected back to the input width" : ", their outputs concatenated"}.`,
      params: `n_in: int, heads: int, head_size: int${withDropout ? ", dropout: float" : ""}`,
      init: [
        `self.heads = nn.ModuleList([${head}(n_in, head_size) for _ in range(heads)])`,
        ...(proj ? ["# Mixes what the heads found, back into the residual stream's width.", "self.proj = nn.Linear(heads * head_size, n_in)"] : []),
        ...(withDropout ? [`self.dropout = dropout  # on the attention weights${proj ? " and after the projection" : ""}, while training`] : []),
      ],
      forward: [
        "# Every head at once: the same as torch.cat([attention of head h for h in self.heads], -1), from one",
        `# projection of x for all heads (${node.scale ? "scores scaled by 1/sqrt(hs)" : "scores unscaled"}).`,
        `${proj ? "out =" : "return"} ${attention}(x, self.heads, scale=${scale}${withDropout ? ", dropout=self.dropout, training=self.training" : ""})  # (B, T, nh*hs)`,
        ...(proj ? [withDropout ? "return F.dropout(self.proj(out), self.dropout, self.training)  # (B, T, C)" : "return self.proj(out)  # (B, T, C)"] : []),
      ],
    }));
    const dropout = withDropout ? `, ${pyNum(node.dropout)}` : "";
    return [moduleMember(ctx.attr(node.name, scope), `${cls}(${ctx.size(node.inWidth)}, ${node.heads}, ${node.headSize}${dropout})`)];
  },
  forward: (node, input) => callModule(node.name, input),
};

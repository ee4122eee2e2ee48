// feed_forward → the FeedForward class (linear, ReLU or GELU, linear, dropout) and an attribute holding one.
import type { FeedForwardNode } from "../../ir/nodes/index.js";
import { callModule, moduleMember, type TorchLayerEmitter } from "../layer-emitter.js";
import { pyNum } from "../python.js";

export const emitFeedForward: TorchLayerEmitter<FeedForwardNode> = {
  members(node, ctx, scope) {
    const withDropout = node.dropout > 0;
    // F.gelu is the exact erf form, as babygpt's gelu (not the tanh approximation).
    const act = node.activation === "relu" ? "F.relu" : "F.gelu";
    const cls = ctx.useClass("FeedForward", `activation=${node.activation},dropout=${withDropout}`, "mlp", (name) => ({
      name,
      doc: `A per-token MLP: attention lets tokens gather information from each other; here each token computes on what it gathered (${node.activation === "relu" ? "ReLU" : "GELU"} between two linear layers).`,
      params: `n_in: int, hidden: int${withDropout ? ", dropout: float" : ""}`,
      init: ["self.fc = nn.Linear(n_in, hidden)", "self.proj = nn.Linear(hidden, n_in)", ...(withDropout ? ["self.dropout = dropout  # after the second linear layer, while training"] : [])],
      forward: [
        `h = ${act}(self.fc(x))  # (B, T, hidden)`,
        withDropout ? "return F.dropout(self.proj(h), self.dropout, self.training)  # (B, T, C)" : "return self.proj(h)  # (B, T, C)",
      ],
    }));
    const dropout = withDropout ? `, ${pyNum(node.dropout)}` : "";
    return [moduleMember(ctx.attr(node.name, scope), `${cls}(${ctx.size(node.width)}, ${node.hidden}${dropout})`)];
  },
  forward: (node, input) => callModule(node.name, input),
};

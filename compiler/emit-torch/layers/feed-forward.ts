// feed_forward → the FeedForward class (linear, activation, linear, dropout; gated: a third linear whose
// activation multiplies the first's) and an attribute holding one.
import type { Activation } from "../../ir/nodes/feed-forward.js";
import type { FeedForwardNode } from "../../ir/nodes/index.js";
import { callModule, moduleMember, type TorchLayerEmitter } from "../layer-emitter.js";
import { pyNum } from "../python.js";

/** Each activation in torch (F.gelu is the exact erf form, as babygpt's gelu, not the tanh approximation). */
const ACTIVATIONS: { readonly [A in Activation]: { readonly call: (x: string) => string; readonly prose: string } } = {
  relu: { call: (x) => `F.relu(${x})`, prose: "ReLU" },
  gelu: { call: (x) => `F.gelu(${x})`, prose: "GELU" },
  silu: { call: (x) => `F.silu(${x})`, prose: "SiLU" },
  relu2: { call: (x) => `torch.square(F.relu(${x}))`, prose: "ReLU²" },
};

export const emitFeedForward: TorchLayerEmitter<FeedForwardNode> = {
  members(node, ctx, scope) {
    const withDropout = node.dropout > 0;
    const { call, prose } = ACTIVATIONS[node.activation];
    const bias = node.bias ? "" : ", bias=False";
    const gated = node.gated;
    const cls = ctx.useClass("FeedForward", `activation=${node.activation},gated=${gated},bias=${node.bias},dropout=${withDropout}`, "mlp", (name) => ({
      name,
      doc: gated
        ? `A gated per-token MLP (${node.activation === "silu" ? "SwiGLU" : node.activation === "gelu" ? "GeGLU" : `${prose}-gated`}): the ${prose} of one projection, gate, multiplies another, fc, elementwise before the projection back down.`
        : `A per-token MLP: attention lets tokens gather information from each other; here each token computes on what it gathered (${prose} between two linear layers).`,
      params: `n_in: int, hidden: int${withDropout ? ", dropout: float" : ""}`,
      init: [
        ...(gated ? [`self.gate = nn.Linear(n_in, hidden${bias})  # its activation decides how much of each hidden unit passes`] : []),
        `self.fc = nn.Linear(n_in, hidden${bias})`,
        `self.proj = nn.Linear(hidden, n_in${bias})`,
        ...(withDropout ? ["self.dropout = dropout  # after the second linear layer, while training"] : []),
      ],
      forward: [
        gated ? `h = ${call("self.gate(x)")} * self.fc(x)  # (B, T, hidden)` : `h = ${call("self.fc(x)")}  # (B, T, hidden)`,
        withDropout ? "return F.dropout(self.proj(h), self.dropout, self.training)  # (B, T, C)" : "return self.proj(h)  # (B, T, C)",
      ],
    }));
    const dropout = withDropout ? `, ${pyNum(node.dropout)}` : "";
    return [moduleMember(ctx.attr(node.name, scope), `${cls}(${ctx.size(node.width)}, ${node.hidden}${dropout})`)];
  },
  forward: (node, input) => callModule(node.name, input),
};

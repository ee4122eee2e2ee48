// feed_forward → the FeedForward class: linear, activation, linear (, dropout), per token; gated, a third
// linear whose activation multiplies the first's (SwiGLU, GeGLU).
import type { FeedForwardNode } from "../../ir/nodes/index.js";
import type { Activation } from "../../ir/nodes/index.js";
import { expr, type Builder } from "../builder.js";
import { CONFIG_DOCS } from "../config-docs.js";
import { dropout, linear } from "../library.js";
import { call, param, self, v, type Expr, type Init } from "../nodes.js";
import { activation, gatedActivation } from "../ops/index.js";
import { initRuleOf } from "./init-rules.js";

/** Each activation's name in prose. */
const PROSE: { readonly [A in Activation]: string } = { relu: "ReLU", gelu: "GELU", silu: "SiLU", relu2: "ReLU²" };

function gatedName(a: Activation): string {
  return a === "silu" ? "SwiGLU" : a === "gelu" ? "GeGLU" : `${PROSE[a]}-gated`;
}

export const feedForward: Builder<FeedForwardNode> = {
  fields(node, ctx) {
    const withDropout = node.dropout > 0;
    const prose = PROSE[node.activation];
    const lin = (name: string, nIn: string, nOut: string, doc?: string): Init => ({ kind: "module", name, make: linear(param(nIn), param(nOut), node.bias), ...(doc ? { doc } : {}) });
    const h = node.gated ? gatedActivation(node.activation, call(self("gate"), [v("x")]), call(self("fc"), [v("x")])) : activation(node.activation, call(self("fc"), [v("x")]));
    const out = call(self("proj"), [v("h")]);
    const cls = ctx.useClass("FeedForward", "mlp", {
      doc: node.gated
        ? `A gated per-token MLP (${gatedName(node.activation)}): the ${prose} of one projection, gate, multiplies another, fc, elementwise before the projection back down; attention gathers information across tokens, and here each token computes on what it gathered.`
        : `A per-token MLP: attention lets tokens gather information from each other; here each token computes on what it gathered (${prose} between two linear layers).`,
      params: [{ name: "n_in" }, { name: "hidden" }, ...(withDropout ? [{ name: "dropout", float: true }] : [])],
      init: [
        ...(node.gated ? [lin("gate", "n_in", "hidden", "Its activation decides how much of each hidden unit passes.")] : []),
        lin("fc", "n_in", "hidden", node.gated ? "The up projection the gate multiplies." : undefined),
        { ...lin("proj", "hidden", "n_in"), ...initRuleOf(node.zeroInit, ctx) },
        ...(withDropout ? [{ kind: "module", name: "dropout", make: dropout(param("dropout")), doc: "After the projection back down, while training." } as const] : []),
      ],
      forward: {
        rank: 3,
        cache: false,
        scoped: false,
        body: [
          ...(node.gated
            ? [{ kind: "note", only: "typescript", text: `${prose}(gate) · fc elementwise in one op (runtime/ops/gated-activation.ts has its math in tf ops): one kernel forward and one backward on backends that register it.` } as const]
            : []),
          { kind: "let", name: "h", value: h, comment: "(B, T, hidden)" },
          { kind: "return", value: withDropout ? call(self("dropout"), [out]) : out, comment: "(B, T, C)" },
        ],
      },
    });
    const args: Expr[] = [ctx.width(node.width, node.name, "in"), ctx.config("ffwd_hidden", node.hidden, "Width of the feed-forward layer's hidden layer, where each token computes on what attention gathered.", node.name)];
    if (withDropout) args.push(ctx.config("dropout", node.dropout, CONFIG_DOCS.dropout, node.name, true));
    return [{ kind: "module", name: node.name, make: { kind: "class", name: cls, args } }];
  },
  forward: (node, input) => expr(call(self(node.name), [input])),
};

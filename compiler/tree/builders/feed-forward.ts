// feed_forward → the FeedForward class: linear, activation, linear (, dropout), per token; gated, a third
// linear whose activation multiplies the first's (SwiGLU, GeGLU). With experts, the MixtureOfExperts
// class: a router and a list of FeedForward experts, each token running the top_k the router chose.
import type { FeedForwardNode, MixtureOfExperts } from "../../ir/nodes/index.js";
import type { Activation } from "../../ir/nodes/index.js";
import { expr, type BuildContext, type Builder } from "../builder.js";
import { CONFIG_DOCS } from "../config-docs.js";
import { dropout, linear } from "../library.js";
import { call, param, self, v, type Expr, type Init, type Stmt } from "../nodes.js";
import { activation, expertMix, gatedActivation, loadBalancingLoss, topKRouting } from "../ops/index.js";
import { initRuleOf } from "./init-rules.js";

/** Each activation's name in prose. */
const PROSE: { readonly [A in Activation]: string } = { relu: "ReLU", gelu: "GELU", silu: "SiLU", relu2: "ReLU²" };

function gatedName(a: Activation): string {
  return a === "silu" ? "SwiGLU" : a === "gelu" ? "GeGLU" : `${PROSE[a]}-gated`;
}

const HIDDEN_DOC = "Width of the feed-forward layer's hidden layer, where each token computes on what attention gathered.";
const EXPERTS_DOC = "Experts of the mixture: copies of the feed-forward, each with its own weights.";
const TOP_K_DOC = "Experts each token runs: the router's most probable.";
const AUX_LOSS_DOC = "Weight of the load-balancing loss added to the training loss, which keeps the router using every expert.";

const dropoutField = (doc: string): Init => ({ kind: "module", name: "dropout", make: dropout(param("dropout")), doc });

/** The FeedForward class (one MLP, or one expert of a mixture, which leaves dropout to the mixture): its name. */
function mlpClass(node: FeedForwardNode, ctx: BuildContext, withDropout: boolean): string {
  const prose = PROSE[node.activation];
  const lin = (name: string, nIn: string, nOut: string, doc?: string): Init => ({ kind: "module", name, make: linear(param(nIn), param(nOut), node.bias), ...(doc ? { doc } : {}) });
  const h = node.gated ? gatedActivation(node.activation, call(self("gate"), [v("x")]), call(self("fc"), [v("x")])) : activation(node.activation, call(self("fc"), [v("x")]));
  const out = call(self("proj"), [v("h")]);
  return ctx.useClass("FeedForward", "mlp", {
    doc: node.gated
      ? `A gated per-token MLP (${gatedName(node.activation)}): the ${prose} of one projection, gate, multiplies another, fc, elementwise before the projection back down; attention gathers information across tokens, and here each token computes on what it gathered.`
      : `A per-token MLP: attention lets tokens gather information from each other; here each token computes on what it gathered (${prose} between two linear layers).`,
    params: [{ name: "n_in" }, { name: "hidden" }, ...(withDropout ? [{ name: "dropout", float: true }] : [])],
    init: [
      ...(node.gated ? [lin("gate", "n_in", "hidden", "Its activation decides how much of each hidden unit passes.")] : []),
      lin("fc", "n_in", "hidden", node.gated ? "The up projection the gate multiplies." : undefined),
      // zero_init and gpt2's scaled draw reach every expert's proj too: experts are this class.
      { ...lin("proj", "hidden", "n_in"), ...initRuleOf(node.zeroInit, ctx) },
      ...(withDropout ? [dropoutField("After the projection back down, while training.")] : []),
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
}

/** The MixtureOfExperts class: a router and E FeedForward experts, of which each token runs K. */
function mixtureClass(node: FeedForwardNode, moe: MixtureOfExperts, ctx: BuildContext, withDropout: boolean): string {
  const expert = mlpClass(node, ctx, false);
  const mixed = expertMix(v("x"), v("weights"), v("chosen"), self("experts"), node.activation);
  const balance: Stmt[] =
    moe.auxLoss > 0
      ? [
          { kind: "note", text: "The Switch Transformer's load-balancing loss, which keeps the router using every expert: added to the training loss, once per application of the layer." },
          { kind: "aux_loss", value: loadBalancingLoss(v("probs"), v("chosen"), self("aux_loss_coef")) },
        ]
      : [];
  return ctx.useClass("MixtureOfExperts", "mlp", {
    doc:
      "A mixture of experts (Mixtral): a router scores the experts for each token, which runs the top_k of them; " +
      "their outputs, weighted by the router's probabilities renormalized over the chosen ones, are summed. " +
      `Each expert is a ${expert} of its own: more parameters to specialize, at the compute of top_k MLPs per token.`,
    params: [{ name: "n_in" }, { name: "hidden" }, { name: "n_experts" }, { name: "top_k" }, ...(moe.auxLoss > 0 ? [{ name: "aux_loss_coef", float: true }] : []), ...(withDropout ? [{ name: "dropout", float: true }] : [])],
    init: [
      { kind: "module", name: "router", make: linear(param("n_in"), param("n_experts"), false), doc: "Scores every expert for every token." },
      { kind: "modules", name: "experts", count: param("n_experts"), make: { kind: "class", name: expert, args: [param("n_in"), param("hidden")] } },
      { kind: "value", name: "top_k", value: param("top_k"), float: false, doc: "The experts each token runs." },
      ...(moe.auxLoss > 0 ? [{ kind: "value", name: "aux_loss_coef", value: param("aux_loss_coef"), float: true, doc: "The load-balancing loss's weight." } as const] : []),
      ...(withDropout ? [dropoutField("After the experts' weighted sum, while training.")] : []),
    ],
    forward: {
      rank: 3,
      cache: false,
      scoped: false,
      body: [
        {
          kind: "unpack",
          // Without the load-balancing loss, nothing reads the probabilities of every expert.
          names: [moe.auxLoss > 0 ? "probs" : "_", "weights", "chosen"],
          value: topKRouting(call(self("router"), [v("x")]), self("top_k")),
          comment: "(B, T, E), (B, T, K), (B, T, K)",
        },
        ...balance,
        {
          kind: "note",
          only: "typescript",
          text: "Each expert's MLP on the tokens routed to it, in one op (runtime/ops/expert-mix.ts has its math in tf ops): one kernel forward and one backward on backends that register it.",
        },
        { kind: "return", value: withDropout ? call(self("dropout"), [mixed]) : mixed, comment: "(B, T, C)" },
      ],
    },
  });
}

export const feedForward: Builder<FeedForwardNode> = {
  fields(node, ctx) {
    const withDropout = node.dropout > 0;
    const args: Expr[] = [ctx.width(node.width, node.name, "in"), ctx.config("ffwd_hidden", node.hidden, HIDDEN_DOC, node.name)];
    let cls: string;
    if (node.moe) {
      cls = mixtureClass(node, node.moe, ctx, withDropout);
      args.push(ctx.config("n_experts", node.moe.experts, EXPERTS_DOC, node.name), ctx.config("top_k", node.moe.topK, TOP_K_DOC, node.name));
      if (node.moe.auxLoss > 0) args.push(ctx.config("aux_loss_coef", node.moe.auxLoss, AUX_LOSS_DOC, node.name, true));
    } else {
      cls = mlpClass(node, ctx, withDropout);
    }
    if (withDropout) args.push(ctx.config("dropout", node.dropout, CONFIG_DOCS.dropout, node.name, true));
    return [{ kind: "module", name: node.name, make: { kind: "class", name: cls, args } }];
  },
  forward: (node, input) => expr(call(self(node.name), [input])),
};

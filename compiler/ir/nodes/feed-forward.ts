// feed_forward: a per-token MLP (linear → activation → linear), or a gated one, down(act(gate(x)) · up(x)),
// as SwiGLU (silu) and GeGLU (gelu). Attention gathers information across tokens; this is where each
// token thinks about what it gathered. With experts, a mixture of such MLPs (Mixtral): a router without
// bias scores the experts for each token, which runs the top_k of them.
import type { FeedForwardSpec } from "../../spec/types.generated.js";
import { NO_CHILDREN, type Cost, type LowerContext, type NodeDef, type ParamDecl } from "../node-def.js";
import { resolveWidth, type Width } from "../width.js";
import { requireActivations, requireNumeric } from "./require.js";
import type { Activation, FeedForwardNode, MixtureOfExperts } from "./types.js";

/** The Transformer paper's inner width is four times the model width. */
const DEFAULT_MULTIPLIER = 4;

/** Mixtral runs two experts per token. */
const DEFAULT_TOP_K = 2;

/** A linear layer's parameters under a prefix: weight (out, in) and, with bias, bias (out). */
export function linearParams(prefix: string, out: Width, input: Width, bias: boolean): ParamDecl[] {
  const params: ParamDecl[] = [{ name: `${prefix}.weight`, shape: [out, input] }];
  if (bias) params.push({ name: `${prefix}.bias`, shape: [out] });
  return params;
}

export const feedForward: NodeDef<"feed_forward"> = {
  kind: "feed_forward",
  defaultName: () => "ffwd",
  lower(spec: FeedForwardSpec, ctx) {
    const width = requireActivations(ctx, "feed_forward");
    if (spec.hidden !== undefined && spec.multiplier !== undefined) {
      throw ctx.error("give hidden or multiplier, not both", "multiplier");
    }
    if (spec.gated && spec.activation === "relu2") {
      throw ctx.error("a gated MLP with relu2 is no known variant; gate with silu (SwiGLU) or gelu (GeGLU), or set gated: false", "gated");
    }
    const hidden = spec.hidden ?? (spec.multiplier ?? DEFAULT_MULTIPLIER) * requireNumeric(ctx, width, "the hidden width", "hidden");
    const moe = lowerExperts(spec, ctx);
    return {
      kind: "feed_forward",
      name: ctx.name,
      width,
      hidden,
      activation: spec.activation,
      gated: spec.gated,
      bias: spec.bias,
      dropout: spec.dropout ?? ctx.defaultDropout,
      zeroInit: spec.zero_init ?? false,
      ...(moe ? { moe } : {}),
    };
  },
  outWidth: (node) => node.width,
  // In the order the module builds them: gate, fc (the up projection), proj (the down projection); with
  // experts, the router, then each expert's.
  params(node) {
    if (!node.moe) return mlpParams(node, "");
    const experts = Array.from({ length: node.moe.experts }, (_, i) => mlpParams(node, `experts.${i}.`));
    return [{ name: "router.weight", shape: [node.moe.experts, node.width] }, ...experts.flat()];
  },
  children: () => NO_CHILDREN,
  cost(node, dims) {
    const c = resolveWidth(node.width, dims);
    const one = mlpCost(node, c);
    if (!node.moe) return one;
    const { experts: E, topK: K } = node.moe;
    // The router's product and softmax, the K experts a token runs, and their weighted sum.
    return { flops: 2 * c * E + 3 * E + K * one.flops + 2 * K * c, activations: 2 * E + K * one.activations + K };
  },
  // A token runs K of the E experts: the others' weights do nothing for it.
  inactiveParams(node, dims) {
    if (!node.moe) return 0;
    const perExpert = mlpParams(node, "").reduce((n, p) => n + p.shape.reduce<number>((a, w) => a * resolveWidth(w, dims), 1), 0);
    return (node.moe.experts - node.moe.topK) * perExpert;
  },
};

/** One MLP's linear layers under a prefix ("" or experts.<i>.). */
function mlpParams(node: FeedForwardNode, prefix: string): ParamDecl[] {
  return [
    ...(node.gated ? linearParams(`${prefix}gate`, node.hidden, node.width, node.bias) : []),
    ...linearParams(`${prefix}fc`, node.hidden, node.width, node.bias),
    ...linearParams(`${prefix}proj`, node.width, node.hidden, node.bias),
  ];
}

/** One MLP's forward cost per token. */
function mlpCost(node: FeedForwardNode, c: number): Cost {
  const matrices = node.gated ? 3 : 2;
  const elementwise = (node.gated ? 3 : 2) * node.hidden + c; // bias, activation (and gating) per hidden unit
  return { flops: matrices * 2 * c * node.hidden + elementwise, activations: (node.gated ? 3 : 2) * node.hidden + c };
}

/** experts, top_k and aux_loss: a mixture of experts, or undefined for one MLP (then neither of the others). */
function lowerExperts(spec: FeedForwardSpec, ctx: LowerContext): MixtureOfExperts | undefined {
  if (spec.experts === undefined) {
    if (spec.top_k !== undefined) throw ctx.error("top_k chooses among experts; set experts too, or remove top_k", "top_k");
    if (spec.aux_loss !== undefined) throw ctx.error("aux_loss balances the load of experts; set experts too, or remove aux_loss", "aux_loss");
    return undefined;
  }
  const topK = spec.top_k ?? DEFAULT_TOP_K;
  if (topK > spec.experts) {
    const given = spec.top_k === undefined ? `top_k defaults to ${DEFAULT_TOP_K}` : `top_k ${topK}`;
    throw ctx.error(`${given}, more than the ${spec.experts} expert${spec.experts === 1 ? "" : "s"} there are; set top_k to at most ${spec.experts}`, spec.top_k === undefined ? "experts" : "top_k");
  }
  return { experts: spec.experts, topK, auxLoss: spec.aux_loss ?? 0 };
}

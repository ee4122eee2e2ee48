// feed_forward: a per-token MLP (linear → activation → linear), or a gated one, down(act(gate(x)) · up(x)),
// as SwiGLU (silu) and GeGLU (gelu). Attention gathers information across tokens; this is where each
// token thinks about what it gathered.
import type { FeedForwardSpec } from "../../spec/types.generated.js";
import { NO_CHILDREN, type NodeDef, type ParamDecl } from "../node-def.js";
import { resolveWidth, type Width } from "../width.js";
import { requireActivations, requireNumeric } from "./require.js";
import type { Activation, FeedForwardNode } from "./types.js";

/** The Transformer paper's inner width is four times the model width. */
const DEFAULT_MULTIPLIER = 4;

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
    };
  },
  outWidth: (node) => node.width,
  // In the order the module builds them: gate, fc (the up projection), proj (the down projection).
  params: (node) => [
    ...(node.gated ? linearParams("gate", node.hidden, node.width, node.bias) : []),
    ...linearParams("fc", node.hidden, node.width, node.bias),
    ...linearParams("proj", node.width, node.hidden, node.bias),
  ],
  children: () => NO_CHILDREN,
  cost(node, dims) {
    const c = resolveWidth(node.width, dims);
    const matrices = node.gated ? 3 : 2;
    const elementwise = (node.gated ? 3 : 2) * node.hidden + c; // bias, activation (and gating) per hidden unit
    return { flops: matrices * 2 * c * node.hidden + elementwise, activations: (node.gated ? 3 : 2) * node.hidden + c };
  },
};

// feed_forward: a per-token MLP (linear → activation → linear). Attention gathers information across
// tokens; this is where each token thinks about what it gathered.
import type { FeedForwardSpec } from "../../spec/types.generated.js";
import { NO_CHILDREN, type NodeDef } from "../node-def.js";
import { resolveWidth, type Width } from "../width.js";
import { requireActivations, requireNumeric } from "./require.js";

export interface FeedForwardNode {
  readonly kind: "feed_forward";
  readonly name: string;
  readonly width: Width;
  readonly hidden: number;
  readonly activation: "relu" | "gelu";
  /** Dropout after the second linear layer. */
  readonly dropout: number;
}

/** The Transformer paper's inner width is four times the model width. */
const DEFAULT_MULTIPLIER = 4;

export const feedForward: NodeDef<"feed_forward"> = {
  kind: "feed_forward",
  defaultName: () => "ffwd",
  lower(spec: FeedForwardSpec, ctx) {
    const width = requireActivations(ctx, "feed_forward");
    if (spec.hidden !== undefined && spec.multiplier !== undefined) {
      throw ctx.error("give hidden or multiplier, not both", "multiplier");
    }
    const hidden = spec.hidden ?? (spec.multiplier ?? DEFAULT_MULTIPLIER) * requireNumeric(ctx, width, "the hidden width", "hidden");
    return {
      kind: "feed_forward",
      name: ctx.name,
      width,
      hidden,
      activation: spec.activation,
      dropout: spec.dropout ?? ctx.defaultDropout,
    };
  },
  outWidth: (node) => node.width,
  params: (node) => [
    { name: "fc.weight", shape: [node.hidden, node.width] },
    { name: "fc.bias", shape: [node.hidden] },
    { name: "proj.weight", shape: [node.width, node.hidden] },
    { name: "proj.bias", shape: [node.width] },
  ],
  children: () => NO_CHILDREN,
  cost(node, dims) {
    const c = resolveWidth(node.width, dims);
    return { flops: 4 * c * node.hidden + 2 * node.hidden + c, activations: 2 * node.hidden + c };
  },
};

// linear: y = x Wᵀ + b over the last dimension. With out: vocab it is the language-model head that turns
// each token's vector into logits over the next token.
import type { LinearSpec } from "../../spec/types.generated.js";
import { NO_CHILDREN, type NodeDef, type ParamDecl } from "../node-def.js";
import { resolveWidth, type Width } from "../width.js";
import { requireActivations } from "./require.js";
import type { LinearNode } from "./types.js";

export const linear: NodeDef<"linear"> = {
  kind: "linear",
  defaultName: (spec) => (spec.out === "vocab" ? "lm_head" : "linear"),
  lower(spec: LinearSpec, ctx) {
    const inWidth = requireActivations(ctx, "linear");
    return { kind: "linear", name: ctx.name, inWidth, outWidth: spec.out, bias: spec.bias };
  },
  outWidth: (node) => node.outWidth,
  params(node) {
    const params: ParamDecl[] = node.tiedTo === undefined ? [{ name: "weight", shape: [node.outWidth, node.inWidth] }] : [];
    if (node.bias) params.push({ name: "bias", shape: [node.outWidth] });
    return params;
  },
  children: () => NO_CHILDREN,
  cost(node, dims) {
    const out = resolveWidth(node.outWidth, dims);
    return { flops: 2 * resolveWidth(node.inWidth, dims) * out + (node.bias ? out : 0), activations: out };
  },
};

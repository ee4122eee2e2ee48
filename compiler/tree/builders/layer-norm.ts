// layer_norm → the LayerNorm class (eps, and gamma and beta when it learns an affine map) and a field
// holding one.
import type { LayerNormNode } from "../../ir/nodes/index.js";
import { expr, type BuildContext, type Builder } from "../builder.js";
import { call, num, param, self, v, type Expr, type Make } from "../nodes.js";
import { layerNorm as layerNormOp } from "../ops/index.js";

/** Builds a LayerNorm of `dim` features (with gamma and beta when affine); its forward is generic over rank. */
export function layerNormMake(ctx: BuildContext, affine: boolean, dim: Expr, eps: number): Make {
  const name = ctx.useClass("LayerNorm", "norm", {
    doc:
      "Layer normalization: each token's features are shifted to mean 0 and scaled to variance 1, then " +
      (affine ? "scaled by gamma and shifted by beta (learned). " : "left as they are (no gamma or beta). ") +
      "Unlike batch norm it uses no statistics across the batch, so it computes the same thing in training and sampling.",
    params: affine ? [{ name: "dim" }, { name: "eps", float: true }] : [{ name: "eps", float: true }],
    init: [
      { kind: "value", name: "eps", value: param("eps"), float: true, doc: "Keeps the division finite when a token's features are all equal." },
      ...(affine
        ? ([
            { kind: "parameter", name: "gamma", shape: [param("dim")], fill: 1, doc: "Per-feature scale, starts at 1." },
            { kind: "parameter", name: "beta", shape: [param("dim")], fill: 0, doc: "Per-feature shift, starts at 0." },
          ] as const)
        : []),
    ],
    forward: {
      rank: "any",
      cache: false,
      scoped: false,
      body: [
        { kind: "note", text: "(x - mean) / sqrt(variance + eps)" + (affine ? " · gamma + beta" : "") + ", with the mean and (biased) variance of each token's features." },
        { kind: "note", only: "typescript", text: "One op, written out in tf ops in runtime/ops/layer-norm.ts, one kernel forward and one backward on backends that have them." },
        { kind: "return", value: layerNormOp(v("x"), affine ? self("gamma") : undefined, affine ? self("beta") : undefined, self("eps")), comment: "(B, T, C)" },
      ],
    },
  });
  return { kind: "class", name, args: affine ? [dim, num(eps, true)] : [num(eps, true)] };
}

export const layerNorm: Builder<LayerNormNode> = {
  fields: (node, ctx) => [{ kind: "module", name: node.name, make: layerNormMake(ctx, node.affine, ctx.width(node.width, node.name), node.eps) }],
  forward: (node, input) => expr(call(self(node.name), [input])),
};

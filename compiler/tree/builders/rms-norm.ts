// rms_norm → the RMSNorm class (eps, and gamma when it learns a gain) and a field holding one.
import type { RmsNormNode } from "../../ir/nodes/index.js";
import { expr, type BuildContext, type Builder } from "../builder.js";
import { call, num, param, self, v, type Expr, type Make } from "../nodes.js";
import { rmsNorm as rmsNormOp } from "../ops/index.js";

/** Builds an RMSNorm of `dim` features (with gamma when it scales); its forward is generic over rank. */
export function rmsNormMake(ctx: BuildContext, scale: boolean, dim: Expr, eps: number): Make {
  const name = ctx.useClass("RMSNorm", "norm", {
    doc:
      "RMS normalization: each token's features are divided by their root mean square, " +
      (scale ? "then scaled by gamma (learned). " : "and nothing else (no learned gain). ") +
      "Unlike layer norm it subtracts no mean and adds no shift, which makes it cheaper for the same effect.",
    params: scale ? [{ name: "dim" }, { name: "eps", float: true }] : [{ name: "eps", float: true }],
    init: [
      { kind: "value", name: "eps", value: param("eps"), float: true, doc: "Keeps the division finite when a token's features are all zero." },
      ...(scale ? ([{ kind: "parameter", name: "gamma", shape: [param("dim")], fill: 1, doc: "Per-feature gain, starts at 1." }] as const) : []),
    ],
    forward: {
      rank: "any",
      cache: false,
      scoped: false,
      body: [
        { kind: "note", text: `x / sqrt(mean(x²) + eps)${scale ? " · gamma" : ""}, over each token's features.` },
        { kind: "note", only: "typescript", text: "One op, written out in tf ops in runtime/ops/rms-norm.ts." },
        { kind: "return", value: rmsNormOp(v("x"), scale ? self("gamma") : undefined, self("eps")), comment: "(B, T, C)" },
      ],
    },
  });
  return { kind: "class", name, args: scale ? [dim, num(eps, true)] : [num(eps, true)] };
}

export const rmsNorm: Builder<RmsNormNode> = {
  fields: (node, ctx) => [{ kind: "module", name: node.name, make: rmsNormMake(ctx, node.scale, ctx.width(node.width, node.name), node.eps) }],
  forward: (node, input) => expr(call(self(node.name), [input])),
};

// rms_norm → the RMSNorm class (epsilon, and gamma when it learns a gain), written out in the file.
import type { RmsNormNode } from "../../ir/nodes/index.js";
import { buildClass } from "../class-builder.js";
import { type EmitContext, num } from "../context.js";
import { callForward, type LayerEmitter, moduleMember } from "../layer-emitter.js";

/** Declares the RMSNorm variant (with or without its gain) and returns its class name. */
export function useRmsNormClass(ctx: EmitContext, scale: boolean): string {
  return ctx.useClass("RMSNorm", `scale=${scale}`, "norm", (name) =>
    buildClass({
      name,
      doc:
        "RMS normalization: each token's features are divided by their root mean square, " +
        (scale ? "then scaled by gamma (learned). " : "and nothing else (no learned gain). ") +
        "Unlike layer norm it subtracts no mean and adds no shift, which makes it cheaper for the same effect.",
      fields: [
        { name: "eps", type: "number", doc: "Keeps the division finite when a token's features are all zero." },
        ...(scale ? [{ name: "gamma", type: "tf.Variable", doc: "Per-feature gain, starts at 1." }] : []),
      ],
      ctorParams: scale
        ? [
            { name: "dim", type: "number" },
            { name: "eps", type: "number" },
          ]
        : [{ name: "eps", type: "number" }],
      ctorBody: ["this.eps = eps;", ...(scale ? [`this.gamma = this.param("gamma", tf.ones([dim]));`] : [])],
      methods: [
        {
          name: "forward",
          params: [{ name: "x", type: "tf.Tensor3D" }],
          returns: "tf.Tensor3D",
          body: [
            `// x / sqrt(mean(x²) + eps)${scale ? " · gamma" : ""}, over each token's features: one op, written out in tf ops`,
            "// in runtime/ops/rms-norm.ts.",
            `return rmsNorm(x, ${scale ? "this.gamma" : "undefined"}, this.eps); // (B, T, C)`,
          ],
        },
      ],
    }),
  );
}

export const emitRmsNorm: LayerEmitter<RmsNormNode> = {
  runtime: ["rmsNorm", "tf"],
  members(node, ctx, scope) {
    const cls = useRmsNormClass(ctx, node.scale);
    const args = node.scale ? `${ctx.size(node.width, scope)}, ${num(node.eps)}` : num(node.eps);
    return [moduleMember(node.name, cls, args)];
  },
  forward: (node, input) => callForward(node.name, input),
};

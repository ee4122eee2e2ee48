// layer_norm → the project's own LayerNorm class (epsilon, gamma, beta), written out in the file.
import type { LayerNormNode } from "../../ir/nodes/index.js";
import { buildClass } from "../class-builder.js";
import { type EmitContext, num } from "../context.js";
import { callForward, type LayerEmitter, moduleMember } from "../layer-emitter.js";

/** Declares the LayerNorm variant (with or without gamma and beta) and returns its class name. */
export function useLayerNormClass(ctx: EmitContext, affine: boolean): string {
  return ctx.useClass("LayerNorm", `affine=${affine}`, "norm", (name) =>
      buildClass({
        name,
        doc:
          "Layer normalization: each token's features are shifted to mean 0 and scaled to variance 1, then " +
          (affine ? "scaled by gamma and shifted by beta (learned). " : "left as they are (no gamma or beta). ") +
          "Unlike batch norm it uses no statistics across the batch, so it computes the same thing in training and sampling.",
        fields: [
          { name: "eps", type: "number", doc: "Keeps the division finite when a token's features are all equal." },
          ...(affine
            ? [
                { name: "gamma", type: "tf.Variable", doc: "Per-feature scale, starts at 1." },
                { name: "beta", type: "tf.Variable", doc: "Per-feature shift, starts at 0." },
              ]
            : []),
        ],
        ctorParams: [
          { name: "dim", type: "number" },
          { name: "eps", type: "number" },
        ],
        ctorBody: [
          "this.eps = eps;",
          ...(affine ? [`this.gamma = this.param("gamma", tf.ones([dim]));`, `this.beta = this.param("beta", tf.zeros([dim]));`] : []),
        ],
        methods: [
          {
            name: "forward",
            params: [{ name: "x", type: "tf.Tensor3D" }],
            returns: "tf.Tensor3D",
            body: affine
              ? [
                  "// (x - mean) / sqrt(variance + eps) · gamma + beta, with the mean and variance of each token's",
                  "// features: one op, written out in tf ops in runtime/ops/layer-norm.ts, one kernel forward and",
                  "// one backward on backends that have them.",
                  "return layerNorm(x, this.gamma, this.beta, this.eps); // (B, T, C)",
                ]
              : [
                  "const { mean, variance } = tf.moments(x, -1, true); // (B, T, 1) each: statistics over the features",
                  "return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.eps))); // (B, T, C)",
                ],
          },
        ],
      }),
    );
}

export const emitLayerNorm: LayerEmitter<LayerNormNode> = {
  runtime: ["layerNorm", "tf"],
  members(node, ctx, scope) {
    const cls = useLayerNormClass(ctx, node.affine);
    return [moduleMember(node.name, cls, `${ctx.size(node.width, scope)}, ${num(node.eps)}`)];
  },
  forward: (node, input) => callForward(node.name, input),
};

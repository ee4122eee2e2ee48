// layer_norm → the project's own LayerNorm class (its parameters are gamma and beta, as babygpt names
// them; nn.LayerNorm would call them weight and bias), written out in the module.
import type { LayerNormNode } from "../../ir/nodes/index.js";
import type { TorchContext } from "../context.js";
import { callModule, moduleMember, type TorchLayerEmitter } from "../layer-emitter.js";
import { pyNum } from "../python.js";

/** Declares the LayerNorm variant (with or without gamma and beta) and returns its class name. */
export function useLayerNormClass(ctx: TorchContext, affine: boolean): string {
  return ctx.useClass("LayerNorm", `affine=${affine}`, "norm", (name) => ({
    name,
    doc:
      "Layer normalization: each token's features are shifted to mean 0 and scaled to variance 1, then " +
      (affine ? "scaled by gamma and shifted by beta (learned). " : "left as they are (no gamma or beta). ") +
      "Unlike batch norm it uses no statistics across the batch, so it computes the same thing in training and sampling.",
    params: affine ? "dim: int, eps: float" : "eps: float",
    init: [
      "self.eps = eps  # keeps the division finite when a token's features are all equal",
      ...(affine ? ["self.gamma = nn.Parameter(torch.ones(dim))  # per-feature scale, starts at 1", "self.beta = nn.Parameter(torch.zeros(dim))  # per-feature shift, starts at 0"] : []),
    ],
    forward: [
      "# (x - mean) / sqrt(variance + eps), with the mean and (biased) variance of each token's features",
      affine ? "return F.layer_norm(x, self.gamma.shape, self.gamma, self.beta, self.eps)  # (B, T, C)" : "return F.layer_norm(x, x.shape[-1:], eps=self.eps)  # (B, T, C)",
    ],
  }));
}

export const emitLayerNorm: TorchLayerEmitter<LayerNormNode> = {
  members(node, ctx, scope) {
    const cls = useLayerNormClass(ctx, node.affine);
    return [moduleMember(ctx.attr(node.name, scope), `${cls}(${node.affine ? `${ctx.size(node.width)}, ` : ""}${pyNum(node.eps)})`)];
  },
  forward: (node, input) => callModule(node.name, input),
};

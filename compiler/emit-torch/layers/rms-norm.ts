// rms_norm → the RMSNorm class, written out in the module (torch 1.13 has no nn.RMSNorm; its parameter is
// gamma, as babygpt names it).
import type { RmsNormNode } from "../../ir/nodes/index.js";
import type { TorchContext } from "../context.js";
import { callModule, moduleMember, type TorchLayerEmitter } from "../layer-emitter.js";
import { pyNum } from "../python.js";

/** Declares the RMSNorm variant (with or without its gain) and returns its class name. */
export function useRmsNormClass(ctx: TorchContext, scale: boolean): string {
  return ctx.useClass("RMSNorm", `scale=${scale}`, "norm", (name) => ({
    name,
    doc:
      "RMS normalization: each token's features are divided by their root mean square, " +
      (scale ? "then scaled by gamma (learned). " : "and nothing else (no learned gain). ") +
      "Unlike layer norm it subtracts no mean and adds no shift, which makes it cheaper for the same effect.",
    params: scale ? "dim: int, eps: float" : "eps: float",
    init: [
      "self.eps = eps  # keeps the division finite when a token's features are all zero",
      ...(scale ? ["self.gamma = nn.Parameter(torch.ones(dim))  # per-feature gain, starts at 1"] : []),
    ],
    forward: [
      "# x / sqrt(mean(x²) + eps) over each token's features",
      "x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)  # (B, T, C)",
      ...(scale ? ["return x * self.gamma  # (B, T, C)"] : ["return x"]),
    ],
  }));
}

export const emitRmsNorm: TorchLayerEmitter<RmsNormNode> = {
  members(node, ctx, scope) {
    const cls = useRmsNormClass(ctx, node.scale);
    const args = node.scale ? `${ctx.size(node.width)}, ${pyNum(node.eps)}` : pyNum(node.eps);
    return [moduleMember(ctx.attr(node.name, scope), `${cls}(${args})`)];
  },
  forward: (node, input) => callModule(node.name, input),
};

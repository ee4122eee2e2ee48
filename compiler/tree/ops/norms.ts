// The normalizations: layer norm and RMS norm over the last axis, each with its learned gain (and layer
// norm's shift) or without. TypeScript calls the ops of runtime/ops (one kernel where registered); Python
// calls F.layer_norm, and rms_norm written out in the module (torch 1.13 has no RMS norm).
import { pyText, tsText, type OpDef, type PyHelper } from "./op.js";
import { op, type Expr } from "../nodes.js";

export const LAYER_NORM: OpDef = {
  name: "layer_norm",
  tsNames: ["layerNorm"],
  ts: (a) => `layerNorm(${tsText(a, "x")}, ${(a["gamma"] as string | undefined) ?? "undefined"}, ${(a["beta"] as string | undefined) ?? "undefined"}, ${tsText(a, "eps")})`,
  py: (a) => {
    const x = pyText(a, "x").text;
    const eps = pyText(a, "eps").text;
    if (a["gamma"] === undefined) return `F.layer_norm(${x}, ${pyText(a, "x").at(100)}.shape[-1:], eps=${eps})`;
    const gamma = pyText(a, "gamma");
    return `F.layer_norm(${x}, ${gamma.at(100)}.shape, ${gamma.text}, ${pyText(a, "beta").text}, ${eps})`;
  },
};

const RMS_NORM_PY: PyHelper = {
  name: "rms_norm",
  order: 40,
  text: `def rms_norm(x: torch.Tensor, gamma: torch.Tensor | None, eps: float) -> torch.Tensor:
    """x / sqrt(mean(x²) + eps) over the last axis (each token's features), times gamma when given."""
    x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return x if gamma is None else x * gamma`,
};

export const RMS_NORM: OpDef = {
  name: "rms_norm",
  tsNames: ["rmsNorm"],
  ts: (a) => `rmsNorm(${tsText(a, "x")}, ${(a["gamma"] as string | undefined) ?? "undefined"}, ${tsText(a, "eps")})`,
  py: (a) => `rms_norm(${pyText(a, "x").text}, ${a["gamma"] === undefined ? "None" : pyText(a, "gamma").text}, ${pyText(a, "eps").text})`,
  pyHelpers: [RMS_NORM_PY],
};

// Constructors for builders.
export const layerNorm = (x: Expr, gamma: Expr | undefined, beta: Expr | undefined, eps: Expr): Expr => op(LAYER_NORM.name, { x, gamma, beta, eps });
export const rmsNorm = (x: Expr, gamma: Expr | undefined, eps: Expr): Expr => op(RMS_NORM.name, { x, gamma, eps });

// The activations of the feed-forward layer. GELU is the exact (erf) form in both targets, not the tanh
// approximation; ReLU² is relu(x)², as in the Primer paper and modded-nanogpt.
import type { Activation } from "../../ir/nodes/index.js";
import { PREC, pyText, tsText, type OpDef } from "./op.js";
import { op, type Expr } from "../nodes.js";

/** Each activation applied to a spelled argument, in both targets. */
const SPELLING: { readonly [A in Activation]: { readonly ts: (x: string) => string; readonly py: (x: string) => string } } = {
  relu: { ts: (x) => `tf.relu(${x})`, py: (x) => `F.relu(${x})` },
  gelu: { ts: (x) => `gelu(${x})`, py: (x) => `F.gelu(${x})` },
  silu: { ts: (x) => `silu(${x})`, py: (x) => `F.silu(${x})` },
  relu2: { ts: (x) => `relu2(${x})`, py: (x) => `torch.square(F.relu(${x}))` },
};

export const ACTIVATION: OpDef = {
  name: "activation",
  tsNames: ["tf", "gelu", "silu", "relu2"],
  ts: (a) => SPELLING[a["fn"] as Activation].ts(tsText(a, "x")),
  py: (a) => SPELLING[a["fn"] as Activation].py(pyText(a, "x").text),
};

/**
 * act(gate) · up elementwise: the gated MLP's middle (SwiGLU with silu, GeGLU with gelu). One op in
 * TypeScript (runtime/ops/gated-activation.ts), one kernel forward and one backward where registered.
 */
export const GATED_ACTIVATION: OpDef = {
  name: "gated_activation",
  tsNames: ["gatedActivation"],
  ts: (a) => `gatedActivation(${tsText(a, "gate")}, ${tsText(a, "up")}, "${a["fn"] as Activation}")`,
  py: (a) => ({ text: `${SPELLING[a["fn"] as Activation].py(pyText(a, "gate").text)} * ${pyText(a, "up").at(PREC.product + 1)}`, prec: PREC.product }),
};

// Constructors for builders.
export const activation = (fn: Activation, x: Expr): Expr => op(ACTIVATION.name, { fn, x });
export const gatedActivation = (fn: Activation, gate: Expr, up: Expr): Expr => op(GATED_ACTIVATION.name, { fn, gate, up });

/** x capped smoothly: cap·tanh(x / cap) (the logits' cap of Gemma 2 and modded-nanogpt). */
export const SOFTCAP: OpDef = {
  name: "softcap",
  tsNames: ["softcap"],
  ts: (a) => `softcap(${tsText(a, "x")}, ${tsText(a, "cap")})`,
  py: (a) => ({ text: `${pyText(a, "cap").at(PREC.product)} * torch.tanh(${pyText(a, "x").at(PREC.product)} / ${pyText(a, "cap").at(PREC.product + 1)})`, prec: PREC.product }),
};

export const softcap = (x: Expr, cap: Expr): Expr => op(SOFTCAP.name, { x, cap });

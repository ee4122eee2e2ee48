// How the init step draws a residual body's last projection (attention's output, the MLP's way back down):
// zeros with zero_init (modded-nanogpt), GPT-2's scaled draw with model.init gpt2, else as its kind.
import type { BuildContext } from "../builder.js";
import type { InitRule } from "../nodes.js";

export function projectionRule(zeroInit: boolean, ctx: BuildContext): InitRule | undefined {
  return zeroInit ? "zero" : ctx.ir.init === "gpt2" ? "residual" : undefined;
}

/** The proj field's init rule, to spread into it, when it has one. */
export function initRuleOf(zeroInit: boolean, ctx: BuildContext): { readonly initRule?: InitRule } {
  const rule = projectionRule(zeroInit, ctx);
  return rule ? { initRule: rule } : {};
}

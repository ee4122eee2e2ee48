// A model's decode plan (plan.ts) from its IR: the module tree, run symbolically (interpret.ts), laid out
// in buffers (layout.ts). A model whose forward the plan cannot follow gets the reason instead, and samples
// through its generated forward.
import type { ModelIR } from "../../ir/model.js";
import { buildModuleFile } from "../../tree/build.js";
import { interpret, Unplannable } from "./interpret.js";
import { layout } from "./layout.js";
import type { DecodePlan, NoPlan } from "./plan.js";

export type { DecodePlan, NoPlan, Operand, PlanBuffer, PlanCache, PlanExpert, PlanStep, PlanStepKind, PlanTensor, PlanValue } from "./plan.js";
export { stepInputs } from "./layout.js";

export function decodePlan(ir: ModelIR, vocab: number): DecodePlan | NoPlan {
  try {
    return layout(ir.name, vocab, ir.blockSize, interpret(buildModuleFile(ir), vocab));
  } catch (e) {
    if (e instanceof Unplannable) return { unsupported: e.message };
    throw e;
  }
}

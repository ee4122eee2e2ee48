// A model's decode plan (plan.ts) from its IR: the module tree, run symbolically (interpret.ts), laid out
// in buffers (layout.ts). A model whose forward the plan cannot follow gets the reason instead, and samples
// through its generated forward.
import type { ModelIR } from "../../ir/model.js";
import { buildModuleFile } from "../../tree/build.js";
import type { ModuleFile } from "../../tree/nodes.js";
import { interpret, Unplannable } from "./interpret.js";
import { layout } from "./layout.js";
import type { DecodePlan, NoPlan } from "./plan.js";

export type { DecodePlan, NoPlan, Operand, PlanBuffer, PlanCache, PlanExpert, PlanStep, PlanStepKind, PlanTensor, PlanValue } from "./plan.js";
export { stepInputs } from "./layout.js";

export function decodePlan(ir: ModelIR, vocab: number): DecodePlan | NoPlan {
  return planOf(buildModuleFile(ir), ir.blockSize, vocab);
}

/** The plan of a module tree (decodePlan's second half, which the tests give trees of their own). */
export function planOf(file: ModuleFile, blockSize: number, vocab: number): DecodePlan | NoPlan {
  try {
    return layout(file.name, vocab, blockSize, interpret(file, vocab));
  } catch (e) {
    if (e instanceof Unplannable) return { unsupported: e.message };
    throw e;
  }
}

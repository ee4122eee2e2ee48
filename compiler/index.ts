// The compiler's public entry: what the runtime, the benchmark, the kit and the playground may use of it.
// Loading a spec (with its positions), lowering it to the IR, what the IR knows before anything runs
// (parameters, FLOPs, memory, inspect's rows), located errors and warnings, the PyTorch target, the decode
// plan that sampling runs natively, and where a spec's files go. The TypeScript target loads ts-morph and the TypeScript compiler under it, so it has
// entries of its own, which a command imports only when it generates code: emit.ts (a spec's model
// module) and compile.ts (`babygpt compile` over a project); the emitter's fingerprint, which reads compiler/'s files in Node, is fingerprint.ts; the target names alone are targets.ts,
// which the CLI's help reads without loading the compiler. Nothing else of compiler/ is imported from
// outside it (test/reliability/import-graph.test.ts).
export { SpecError, fail, formatDiagnostic, formatWarning, locHeader, type Diagnostic, type Loc } from "./diagnostics/diagnostic.js";
export { displayPath, loadSpec, type LoadedSpec, type LoadOptions, type SpecFile } from "./spec/load.js";
export type { DataSpec, OptimizerSpec, ScheduleSpec, Spec, TrainingSpec } from "./spec/types.generated.js";
export { lowerSpec } from "./ir/lower.js";
export type { ModelIR } from "./ir/model.js";
export {
  activationBytes,
  activeParams,
  costs,
  countParams,
  inferenceBytes,
  largestTensor,
  namedParams,
  readsPositions,
  summaryRows,
  trainingBytes,
  type Costs,
  type LargestTensor,
  type NamedParam,
  type SummaryRow,
} from "./ir/analysis.js";
export { emitPython } from "./emit-python.js";
export { decodePlan, stepInputs, type DecodePlan, type NoPlan, type Operand, type PlanExpert, type PlanStep, type PlanStepKind, type PlanTensor } from "./serialize/decode/index.js";
export { generatedPathFor, hasCommittedCode, projectAt, runtimeImportFrom, torchPathFor, type Project } from "./project.js";
export { TARGETS, type Target } from "./targets.js";

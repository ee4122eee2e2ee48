// Every op, one file each: the name its kernels are registered under, its attrs, its reference in tf
// ops, and the function that runs it (op.ts dispatches to the active backend's kernel or the reference).
export { relu2, silu } from "./activations.js";
export { MULTI_HEAD_ATTENTION, multiHeadCausalAttention, type HeadWeights, type MultiHeadAttentionAttrs, type Projection } from "./attention.js";
export { CAUSAL_ATTENTION, causalAttention, type CausalAttentionAttrs } from "./causal-attention.js";
export { recordAttentionWeights } from "./attention-weights.js";
export { causalMask } from "./causal-mask.js";
export { CROSS_ENTROPY, crossEntropy } from "./cross-entropy.js";
export { DROPOUT, dropout, type DropoutAttrs } from "./dropout.js";
export { EMBEDDING, embedding } from "./embedding.js";
export { EXPERT_MIX, expertMix, type ExpertMixAttrs, type ExpertWeights } from "./expert-mix.js";
export { GATED_ACTIVATION, gatedActivation, type GatedActivationAttrs, type GatedActivationKind } from "./gated-activation.js";
export { GELU, gelu } from "./gelu.js";
export { GLOBAL_NORM, globalNorm } from "./global-norm.js";
export { LAYER_NORM, layerNorm, type LayerNormAttrs } from "./layer-norm.js";
export { LINEAR, linear } from "./linear.js";
export { OPTIMIZER_STEP, optimizerStep, type OptimizerStepAttrs } from "./optimizer-step.js";
export { RMS_NORM, rmsNorm, type RmsNormAttrs } from "./rms-norm.js";
export { ROPE, rope, rotaryTables, type RopeAttrs } from "./rope.js";
export { choiceMargins, loadBalancingLoss, recordRouting, topKRouting, type RoutingRecord } from "./routing.js";
export { type ScoreShaping } from "./score-shaping.js";
// For backends (the stash their kernels keep for the gradient) and tests (the op list, the stashes still
// held, the references on demand); the ops' own files take the rest from op.ts.
export {
  declareExtensions,
  definedOps,
  gradientStash,
  keepTensorInfos,
  pendingStashes,
  withReferenceOps,
  type GradientStash,
  type Op,
  type OpInputs,
} from "./op.js";

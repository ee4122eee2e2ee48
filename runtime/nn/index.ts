// What generated model code imports: the tf namespace and the runtime's building blocks. The fused
// operations among them are ops (runtime/ops/): one name, reference math in tf ops, a kernel per backend.
export { tf } from "./tf.js";
export { Module } from "./module.js";
export { LanguageModel, type ModelOptions, type ModelOutput } from "./language-model.js";
export { Linear } from "./linear.js";
export { Embedding } from "./embedding.js";
export { Dropout } from "./dropout.js";
export { DropoutSeeds } from "./dropout-seeds.js";
export { Initializer } from "./init.js";
export { KvCache } from "./kv-cache.js";
export {
  causalAttention,
  causalMask,
  crossEntropy,
  expertMix,
  gatedActivation,
  gelu,
  layerNorm,
  loadBalancingLoss,
  multiHeadCausalAttention,
  relu2,
  rmsNorm,
  rope,
  rotaryTables,
  silu,
  sinusoidalTable,
  softcap,
  topKRouting,
  type AttentionHead,
  type AttentionOptions,
  type AttentionShaping,
} from "./functional.js";

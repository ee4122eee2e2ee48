// What generated model code imports: the tf namespace and the runtime's building blocks.
export { tf } from "./tf.js";
export { Module } from "./module.js";
export { LanguageModel, type ModelOptions, type ModelOutput } from "./language-model.js";
export { Linear } from "./linear.js";
export { Embedding } from "./embedding.js";
export {
  causalAttention,
  causalMask,
  crossEntropy,
  dropout,
  gelu,
  layerNorm,
  multiHeadCausalAttention,
  sinusoidalTable,
  type AttentionHead,
} from "./functional.js";

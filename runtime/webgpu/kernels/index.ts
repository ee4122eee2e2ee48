// This project's WebGPU kernels for the ops of runtime/ops, registered in tfjs's registry under the ops'
// names for the "webgpu" backend (their gradients are the op layer's, once for all backends).
import { tf } from "../../nn/tf.js";
import { ATTENTION_KERNELS } from "./attention.js";
import { CROSS_ENTROPY_KERNELS } from "./cross-entropy.js";
import { LAYER_NORM_KERNELS } from "./layer-norm.js";
import { TRAINING_KERNELS } from "./training.js";

let registered = false;

export function registerWebGPUKernels(): void {
  if (registered) return;
  for (const k of [...LAYER_NORM_KERNELS, ...ATTENTION_KERNELS, ...CROSS_ENTROPY_KERNELS, ...TRAINING_KERNELS]) tf.registerKernel(k);
  registered = true;
}

// tfjs-webgpu's flags for training. bench/webgpu-kernels.ts times a baby GPT training step under each
// setting on the adapter at hand and writes bench/results/webgpu-kernels-<date>.json; BABYGPT_<FLAG>=value
// overrides one for such a measurement. Measured so far only on lavapipe (a software adapter, on a loaded
// 2-core machine: bench/results/webgpu-kernels-2026-12-02.json), where 15 was the fastest of 1, 15, 64 and
// 256 and CPU forwarding made no difference; a GPU may well want a larger batch (the GPU kit measures the settings there too):
//   WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: how many dispatches are recorded before the command buffer is
//     submitted. tfjs's default, 15, submits ~100 times per baby GPT step.
//   WEBGPU_CPU_FORWARD: runs an op on the CPU when its inputs are small and still on the CPU. In training
//     they rarely are, and a result computed there is uploaded again by the next GPU op.
import { tf } from "../nn/tf.js";

export const FLAGS = {
  WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: 15,
  WEBGPU_CPU_FORWARD: true,
} as const;

/** Sets the flags, unless the environment already chose (TFJS_FLAGS-style overrides for measuring). */
export function applyFlags(): void {
  const env = tf.env();
  for (const [name, value] of Object.entries(FLAGS)) {
    const given = process.env[`BABYGPT_${name}`];
    env.set(name, given === undefined ? value : typeof value === "boolean" ? given === "true" || given === "1" : Number(given));
  }
}

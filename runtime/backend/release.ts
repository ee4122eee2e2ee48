// The webgpu backend's module, once something asked for it, and letting the process exit after it. Apart
// from select.ts, which loads TensorFlow.js, so that the CLI can release after every command without
// loading it for the commands that never touch a tensor.
let webgpuLoaded: Promise<typeof import("../webgpu/backend.js")> | undefined;

/** The webgpu backend's module, imported on the first call. */
export function loadWebGPUModule(): Promise<typeof import("../webgpu/backend.js")> {
  webgpuLoaded ??= import("../webgpu/backend.js");
  return webgpuLoaded;
}

/**
 * Lets the process exit at the end of a command: Node waits while Dawn's GPU instance is referenced, which
 * it is once webgpu was tried (even by auto, which may have passed it by). Nothing after this may use it.
 */
export async function releaseBackends(): Promise<void> {
  if (webgpuLoaded) (await webgpuLoaded).releaseWebGPU();
}

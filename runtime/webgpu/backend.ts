/// <reference types="@webgpu/types" />
// The "webgpu" tfjs backend: tfjs-backend-webgpu's WebGPUBackend on this process's adapter (adapter.ts),
// with the device asking for the adapter's own limits (the defaults cap a storage buffer binding at
// 128 MiB and a shader at 8 storage buffers), tfjs-webgpu's flags as measured for training here (flags.ts),
// and this project's kernels for the ops of runtime/ops registered in tfjs's registry (kernels/).
import { tf } from "../nn/tf.js";
import { openAdapter, type OpenedAdapter } from "./adapter.js";
import { applyFlags } from "./flags.js";
import { registerWebGPUKernels } from "./kernels/index.js";

export const WEBGPU_BACKEND = "webgpu";

/** The limits the device asks for: the adapter's own values (WebGPU's defaults are lower). */
const LIMITS = [
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeWorkgroupsPerDimension",
  "maxComputeWorkgroupSizeX",
  "maxComputeInvocationsPerWorkgroup",
] as const;

let registered: Promise<OpenedAdapter> | undefined;
let device: GPUDevice | undefined;

/** Opens the adapter and registers the backend and its kernels (once); rejects, in one line, where there is no adapter. */
export function registerWebGPUBackend(): Promise<OpenedAdapter> {
  registered ??= register();
  return registered;
}

async function register(): Promise<OpenedAdapter> {
  const opened = await openAdapter();
  const { WebGPUBackend } = (await import("@tensorflow/tfjs-backend-webgpu" as string)) as {
    WebGPUBackend: new (device: GPUDevice, info?: GPUAdapterInfo) => tf.KernelBackend;
  };
  // Importing the package registered a backend of its own on navigator.gpu's default adapter; this one
  // uses the adapter already described to the user, with its limits.
  tf.removeBackend(WEBGPU_BACKEND);
  tf.registerBackend(WEBGPU_BACKEND, async () => {
    const requiredLimits: Record<string, number> = {};
    for (const name of LIMITS) if (opened.limits[name] !== undefined) requiredLimits[name] = opened.limits[name]!;
    const requiredFeatures = opened.adapter.features.has("timestamp-query") ? (["timestamp-query"] as GPUFeatureName[]) : [];
    device = await opened.adapter.requestDevice({ requiredLimits, requiredFeatures });
    device.addEventListener("uncapturederror", (e) => console.error(`webgpu: ${(e as GPUUncapturedErrorEvent).error.message}`));
    return new WebGPUBackend(device, (opened.adapter as unknown as { info: GPUAdapterInfo }).info);
  });
  applyFlags();
  registerWebGPUKernels();
  return opened;
}

/** The adapter's limits (the device asks for the same), by name. */
export async function webgpuLimits(): Promise<Readonly<Record<string, number>>> {
  return (await registerWebGPUBackend()).limits;
}

/**
 * Lets the process exit: the device and the backend go, and navigator.gpu with them (Node waits while
 * Dawn's instance is referenced). For the CLI's last step; a later selectBackend("webgpu") would fail.
 */
export function releaseWebGPU(): void {
  if (tf.findBackend(WEBGPU_BACKEND)) tf.removeBackend(WEBGPU_BACKEND);
  device?.destroy();
  device = undefined;
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (nav && "gpu" in nav) delete nav.gpu;
}

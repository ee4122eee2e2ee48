// How the WebGPU kernels register: tfjs's registry, under the op's name, for the "webgpu" backend; and how a
// gradient kernel finds what its forward kernel kept (tensors, through the op layer's keepTensorInfos).
import type { KernelBackend, KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from "@tensorflow/tfjs";
import { gradientStash, keepTensorInfos, type Op } from "../../ops/index.js";
import type { WebGPUBackendLike } from "../dispatch.js";

export const WEBGPU = "webgpu";

export interface KernelArgs {
  readonly inputs: NamedTensorInfoMap;
  readonly attrs?: NamedAttrMap;
}

export function define(kernelName: string, f: (b: WebGPUBackendLike, args: KernelArgs) => TensorInfo | TensorInfo[]): KernelConfig {
  return {
    kernelName,
    backendName: WEBGPU,
    kernelFunc: ((args: { inputs: NamedTensorInfoMap; backend: object; attrs?: NamedAttrMap }) => f(args.backend as WebGPUBackendLike, args)) as unknown as KernelFunc,
  };
}

/** The tensors the forward kernel kept for the gradient kernel given these attrs. */
export function kept(attrs: NamedAttrMap | undefined, op: Op): Record<string, TensorInfo> {
  const k = gradientStash(attrs)?.kept as Record<string, TensorInfo> | undefined;
  if (!k) throw new Error(`${op.gradName}: the forward kernel kept nothing for its gradient (it ran outside a gradient tape)`);
  return k;
}

/**
 * While the tape records the call (attrs hold the op layer's stash), keeps `inputs` (one more reference
 * each) and takes `made` as the gradient's; otherwise disposes `made` at once. True when kept.
 */
export function keepForGradient(b: WebGPUBackendLike, attrs: NamedAttrMap | undefined, inputs: Readonly<Record<string, TensorInfo>>, made: Readonly<Record<string, TensorInfo>> = {}): boolean {
  const stash = gradientStash(attrs);
  if (stash) keepTensorInfos(stash, b as unknown as KernelBackend, inputs, made);
  else for (const t of Object.values(made)) b.disposeData(t.dataId);
  return stash !== undefined;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);

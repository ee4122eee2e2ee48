/// <reference types="@webgpu/types" />
// Running this project's WGSL kernels inside tfjs-webgpu's own command stream. tfjs's runWebGPUProgram
// binds one output and wraps the shader in its own prelude; the fused kernels need several outputs (a
// layer norm's y and its row statistics), read-write buffers updated in place (the optimizer's update) and
// buffer copies (packing every parameter into one buffer for one dispatch). So they record into the
// backend's command encoder themselves, exactly as runWebGPUProgram does: the same compute pass, the same
// deferred submit every WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE dispatches, the same deferral of buffer reuse
// until the commands that read a buffer are submitted (commandQueueOwnedIds), the same pooled uniform
// buffers. The backend's fields this reads are tfjs-backend-webgpu 4.22.0's (package.json pins it).
import type { DataType, TensorInfo } from "@tensorflow/tfjs";
import { tf } from "../nn/tf.js";

interface TensorData {
  values: unknown;
  dtype: DataType;
  shape: number[];
  refCount: number;
  resource?: GPUBuffer | null;
}

/** The parts of tfjs-backend-webgpu's WebGPUBackend that the kernels use. */
export interface WebGPUBackendLike {
  readonly device: GPUDevice;
  readonly queue: GPUQueue;
  readonly tensorMap: { get(dataId: object): TensorData; has(dataId: object): boolean };
  readonly bufferManager: {
    acquireBuffer(size: number, usage: number, mappedAtCreation?: boolean, reuse?: boolean): GPUBuffer;
    releaseBuffer(buffer: GPUBuffer, reuse?: boolean): void;
  };
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  dispatchCountInPass: number;
  commandQueueOwnedIds: WeakSet<object>;
  uniformPendingDisposal: GPUBuffer[];
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  uploadToGPU(dataId: object): void;
  makeTensorInfo(shape: number[], dtype: DataType, values?: Float32Array | Int32Array): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
  refCount(dataId: object): number;
}

/** A compiled kernel: its WGSL, compiled once per device and key. */
export interface Kernel {
  /** Unique per distinct WGSL text (the name and the constants compiled into it). */
  readonly key: string;
  readonly code: string;
}

/** One binding of a dispatch, in @binding order: a tensor, read or written. */
export type Binding = TensorInfo;

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

function pipelineFor(device: GPUDevice, kernel: Kernel): GPUComputePipeline {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, (cache = new Map()));
  let p = cache.get(kernel.key);
  if (!p) {
    const module = device.createShaderModule({ code: kernel.code, label: kernel.key });
    p = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" }, label: kernel.key });
    cache.set(kernel.key, p);
  }
  return p;
}

/** The tensor's GPU buffer (uploading values still on the CPU first); its commands hold it until submitted. */
export function bufferOf(b: WebGPUBackendLike, t: TensorInfo): GPUBuffer {
  b.uploadToGPU(t.dataId);
  const data = b.tensorMap.get(t.dataId);
  if (!data.resource) throw new Error("webgpu kernel: a tensor has no GPU buffer");
  b.commandQueueOwnedIds.add(t.dataId);
  return data.resource;
}

/** A new float32 or int32 tensor on the GPU, its contents left to the kernel that writes it. */
export function output(b: WebGPUBackendLike, shape: number[], dtype: DataType = "float32"): TensorInfo {
  const info = b.makeTensorInfo(shape, dtype);
  b.uploadToGPU(info.dataId);
  return info;
}

/** A tensor whose values come from the CPU (uploaded when first bound). */
export function upload(b: WebGPUBackendLike, shape: number[], values: Float32Array | Int32Array): TensorInfo {
  return b.makeTensorInfo(shape, values instanceof Int32Array ? "int32" : "float32", values);
}

/** The tensor's CPU copy, if a read left one: it goes stale when a kernel rewrites the buffer in place. */
export function forgetCpuCopy(b: WebGPUBackendLike, t: TensorInfo): void {
  const data = b.tensorMap.get(t.dataId);
  if (data.resource) data.values = null;
}

export function dispose(b: WebGPUBackendLike, ...ts: readonly (TensorInfo | undefined)[]): void {
  for (const t of ts) if (t) b.disposeData(t.dataId);
}

/**
 * Records one dispatch of `kernel` with `bindings` at @binding(0…) and, when given, `uniforms` (a struct of
 * 4-byte fields, u32/i32/f32 as the WGSL declares them) at the next binding; `workgroups` as
 * [x, y, z] or a count (spread over x and y past the per-dimension limit: the kernel then reads its
 * workgroup index as wid.y * nwg.x + wid.x).
 */
export function run(b: WebGPUBackendLike, kernel: Kernel, bindings: readonly Binding[], uniforms: ArrayBuffer | undefined, workgroups: number | readonly [number, number, number]): void {
  let groups: [number, number, number];
  if (typeof workgroups === "number") {
    const max = b.device.limits.maxComputeWorkgroupsPerDimension;
    groups = workgroups <= max ? [workgroups, 1, 1] : [max, Math.ceil(workgroups / max), 1];
  } else {
    groups = [workgroups[0], workgroups[1], workgroups[2]];
  }
  if (groups[0] * groups[1] * groups[2] === 0) return;
  const pipeline = pipelineFor(b.device, kernel);
  const entries: GPUBindGroupEntry[] = bindings.map((t, i) => ({ binding: i, resource: { buffer: bufferOf(b, t) } }));
  if (uniforms) {
    const size = Math.max(16, Math.ceil(uniforms.byteLength / 16) * 16);
    const ubuf = b.bufferManager.acquireBuffer(size, GPUBufferUsage.COPY_DST | GPUBufferUsage.UNIFORM);
    b.queue.writeBuffer(ubuf, 0, uniforms, 0, uniforms.byteLength);
    b.uniformPendingDisposal.push(ubuf);
    entries.push({ binding: bindings.length, resource: { buffer: ubuf, size } });
  }
  const group = b.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  b.ensureCommandEncoderReady();
  if (!b.computePassEncoder) b.computePassEncoder = b.commandEncoder!.beginComputePass({});
  b.computePassEncoder.setPipeline(pipeline);
  b.computePassEncoder.setBindGroup(0, group);
  b.computePassEncoder.dispatchWorkgroups(groups[0], groups[1], groups[2]);
  b.dispatchCountInPass++;
  if (b.dispatchCountInPass >= tf.env().getNumber("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE")) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
}

/** Records copies of byte ranges between tensors' buffers (outside any compute pass, in command order). */
export function copy(b: WebGPUBackendLike, copies: readonly { from: TensorInfo; fromOffset: number; to: TensorInfo; toOffset: number; bytes: number }[]): void {
  if (copies.length === 0) return;
  const pairs = copies.map((c) => [bufferOf(b, c.from), bufferOf(b, c.to)] as const);
  b.ensureCommandEncoderReady();
  b.endComputePassEncoder();
  copies.forEach((c, i) => {
    if (c.bytes > 0) b.commandEncoder!.copyBufferToBuffer(pairs[i]![0], c.fromOffset, pairs[i]![1], c.toOffset, c.bytes);
  });
}

/** Packs uniforms: each value as a 4-byte u32, i32 or f32, in order. */
export function uniforms(fields: readonly (readonly ["u32" | "i32" | "f32", number])[]): ArrayBuffer {
  const buf = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const view = new DataView(buf);
  fields.forEach(([type, value], i) => {
    if (type === "f32") view.setFloat32(i * 4, value, true);
    else if (type === "i32") view.setInt32(i * 4, value, true);
    else view.setUint32(i * 4, value, true);
  });
  return buf;
}

/** The byte size of a float32/int32 tensor. */
export const bytesOf = (t: TensorInfo): number => 4 * t.shape.reduce((a, d) => a * d, 1);

/** A TensorInfo with another shape over the same data (for kernels that read it flat; no reference taken). */
export const reshaped = (t: TensorInfo, shape: number[]): TensorInfo => ({ dataId: t.dataId, dtype: t.dtype, shape });

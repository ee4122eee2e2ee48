// Whether a model's training fits the adapter's buffers. WebGPU caps each buffer (maxBufferSize) and each
// binding of one to a shader (maxStorageBufferBindingSize: 128 MiB on lavapipe, 2-4 GiB on desktop
// GPUs); a tensor larger than that cannot be bound, and the failure would come mid-step as a validation
// error. The trainer asks here first, before anything is allocated, and refuses with the figure: the
// largest tensor of a step, which the compiler bounds from the IR (largestTensor). The optimizer's update
// and the gradient norm pack parameters into buffers of at most the binding size themselves.
/** The most bytes one tensor may hold on the adapter: a buffer both allocated and bound to a shader. */
export function bufferLimit(limits: Readonly<Record<string, number>>): number {
  return Math.min(limits["maxBufferSize"] ?? Infinity, limits["maxStorageBufferBindingSize"] ?? Infinity);
}

// Kernels the tfjs wasm backend lacks but training needs. Gather's gradient is UnsortedSegmentSum, which
// the wasm backend has no kernel for, so without this embeddings could not train there. It runs in JS,
// reading and writing the wasm heap directly; embedding gradients are small next to the matmuls.
import { registerKernel, type KernelConfig, type TensorInfo } from "@tensorflow/tfjs";

interface WasmBackendLike {
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  makeOutput(shape: number[], dtype: TensorInfo["dtype"]): TensorInfo;
}

const unsortedSegmentSum: KernelConfig = {
  kernelName: "UnsortedSegmentSum",
  backendName: "wasm",
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const numSegments = (attrs as { numSegments: number }).numSegments;
    const wasm = backend as unknown as WasmBackendLike;
    const rows = x.shape[0] ?? 1;
    const rowSize = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const out = wasm.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype);
    const outValues = wasm.typedArrayFromHeap(out);
    outValues.fill(0);
    const xValues = wasm.typedArrayFromHeap(x);
    const ids = wasm.typedArrayFromHeap(segmentIds);
    for (let r = 0; r < rows; r++) {
      const seg = ids[r]!;
      if (seg < 0 || seg >= numSegments) continue; // TensorFlow drops out-of-range ids
      const src = r * rowSize;
      const dst = seg * rowSize;
      for (let k = 0; k < rowSize; k++) outValues[dst + k]! += xValues[src + k]!;
    }
    return out;
  },
};

let registered = false;

export function registerWasmKernels(): void {
  if (registered) return;
  registerKernel(unsortedSegmentSum);
  registered = true;
}

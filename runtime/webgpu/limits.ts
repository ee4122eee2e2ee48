// Whether a model's training fits the adapter's buffers. WebGPU caps each buffer (maxBufferSize) and each
// binding of one to a shader (maxStorageBufferBindingSize: 128 MiB on lavapipe, 2-4 GiB on desktop
// GPUs); a tensor larger than that cannot be bound, and the failure would come mid-step as a validation
// error. The trainer asks here first, before anything is allocated, and refuses with the figure. Each
// tensor of a step is bounded from the IR: the attention weights (B·heads·T·T per layer, the largest in
// a GPT at long contexts), activations (B·T by the widest dimension of any parameter, the vocabulary
// included, which bounds every layer's output and the logits), and each parameter. The optimizer's
// update and the gradient norm pack parameters into buffers of at most the binding size themselves.
import { namedParams } from "../../compiler/ir/analysis.js";
import type { ModelIR } from "../../compiler/ir/model.js";
import { nodeDef, type IrNode } from "../../compiler/ir/nodes/index.js";
import { resolveWidth } from "../../compiler/ir/width.js";

export interface LargestBuffer {
  readonly bytes: number;
  readonly what: string;
}

/** The largest single float32 tensor a training step at batch `batch` holds. */
export function largestBuffer(ir: ModelIR, vocab: number, batch: number): LargestBuffer {
  const dims = { vocab, T: ir.blockSize };
  const T = ir.blockSize;
  let best: LargestBuffer = { bytes: 0, what: "" };
  const consider = (floats: number, what: string): void => {
    if (4 * floats > best.bytes) best = { bytes: 4 * floats, what };
  };
  let widest = 0;
  for (const p of namedParams(ir)) {
    const shape = p.shape.map((w) => resolveWidth(w, dims));
    consider(shape.reduce((a, d) => a * d, 1), `the parameter ${p.name} [${shape.join(", ")}]`);
    widest = Math.max(widest, ...shape);
  }
  consider(batch * T * widest, `activations of batch × context × ${widest} (B·T·width)`);
  const visit = (nodes: readonly IrNode[]): void => {
    for (const node of nodes) {
      if (node.kind === "repeat") {
        visit(node.block.body); // every copy has the same shapes
        continue;
      }
      const heads = node.kind === "attention_head" ? 1 : "heads" in node && typeof node.heads === "number" ? node.heads : 0;
      if (heads > 0) consider(batch * heads * T * T, `the attention weights of ${"name" in node ? node.name : node.kind} (batch ${batch} × ${heads} head${heads === 1 ? "" : "s"} × ${T} × ${T})`);
      for (const group of nodeDef(node.kind).children(node as never)) visit(group.nodes);
    }
  };
  visit(ir.layers);
  return best;
}

/** The most bytes one tensor may hold on the adapter: a buffer both allocated and bound to a shader. */
export function bufferLimit(limits: Readonly<Record<string, number>>): number {
  return Math.min(limits["maxBufferSize"] ?? Infinity, limits["maxStorageBufferBindingSize"] ?? Infinity);
}

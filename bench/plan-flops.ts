// The arithmetic a generation asks of a decode plan: floating-point operations (a multiply-add is two)
// of its products, the linear layers' and attention's, step by step as `generate` feeds it (one new
// position per sequence with the KV cache; the whole window, past 0, once the context slides). What a
// product does not count (norms, activations, adds, the draw) only makes the figure smaller, so a time
// computed from it at some speed is a lower bound on the generation's time at that speed.
import type { DecodePlan, PlanStep } from "../compiler/index.js";
import { nextFeed } from "../runtime/sample.js";

/** Operations of one step of the plan: `batch` sequences of T new positions after `past` cached ones. */
export function stepFlops(plan: DecodePlan, batch: number, T: number, past: number): number {
  let flops = 0;
  for (const s of plan.steps) flops += flopsOf(plan, s, batch, T, past);
  return flops;
}

function flopsOf(plan: DecodePlan, s: PlanStep, batch: number, T: number, past: number): number {
  const rows = s.last ? batch : batch * T;
  const shape = (t: number): readonly number[] => plan.tensors[t]!.shape;
  switch (s.kind) {
    case "linear": {
      const N = s.weights.reduce((n, w) => n + shape(w)[0]!, 0);
      return 2 * rows * N * shape(s.weights[0]!)[1]!;
    }
    case "attention": {
      // Per query at position p: its scores over the keys it sees, then as many multiply-adds for the
      // weighted values, head by head (masked keys not counted).
      const queries = s.last ? 1 : T;
      let keys = 0;
      for (let r = 0; r < queries; r++) {
        const p = past + T - queries + r;
        keys += s.window > 0 ? Math.min(p + 1, s.window) : p + 1;
      }
      return batch * s.heads * keys * 2 * 2 * s.headSize;
    }
    case "experts": {
      // Each row: its top k experts' projections (a gate beside the first where the experts are gated).
      const e = s.experts[0]!;
      const [H, C] = shape(e.fc) as [number, number];
      return rows * s.topK * 2 * H * C * (e.gate !== undefined ? 3 : 2);
    }
    case "embed":
    case "positions":
    case "layer_norm":
    case "rms_norm":
    case "activation":
    case "gated_activation":
    case "add":
    case "scale":
    case "scale_by":
    case "softcap":
    case "rope":
      return 0;
  }
}

/** Operations of a generation of `newTokens` after a prompt of `promptTokens`, `batch` samples, with the KV cache. */
export function generationFlops(plan: DecodePlan, batch: number, promptTokens: number, newTokens: number): number {
  let flops = 0;
  let cached = 0;
  for (let length = promptTokens; length < promptTokens + newTokens; length++) {
    const feed = nextFeed(length, plan.blockSize, true, cached);
    flops += stepFlops(plan, batch, length - feed.start, feed.past);
    cached = feed.keep ? length : 0;
  }
  return flops;
}

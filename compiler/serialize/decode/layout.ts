// Where a plan's activations live, and which rows each step computes. Sampling needs the logits of each
// sequence's last position: after the last attention (the one step that mixes positions) every step works
// on those rows alone, B instead of B·T, and that attention computes the last position's query alone.
// Steps whose results nothing reads are dropped. Activations share buffers: one is free again after the
// step that reads it last, and the next one of its kind (all rows, or the last) takes it.
import type { Interpreted } from "./interpret.js";
import type { DecodePlan, PlanBuffer, PlanStep, PlanValue } from "./plan.js";

/** The activations a step reads. */
export function stepInputs(s: PlanStep): number[] {
  switch (s.kind) {
    case "embed":
      return [];
    case "positions":
    case "linear":
    case "layer_norm":
    case "rms_norm":
    case "activation":
    case "scale":
    case "scale_by":
    case "softcap":
    case "rope":
      return [s.x];
    case "gated_activation":
      return [s.gate, s.up];
    case "add":
      return [s.a, s.b];
    case "attention":
      return [s.q.value, s.k.value, s.v.value];
    case "experts":
      return [s.x, s.scores];
  }
}

export function layout(name: string, vocab: number, blockSize: number, p: Interpreted): DecodePlan {
  // Dead steps: walk back from the logits.
  const needed = new Set<number>([p.logits]);
  const kept: PlanStep[] = [];
  for (let i = p.steps.length - 1; i >= 0; i--) {
    const s = p.steps[i]!;
    if (!needed.has(s.out)) continue;
    kept.unshift(s);
    for (const v of stepInputs(s)) needed.add(v);
  }
  // Last rows: every step after the last attention, and that attention's queries.
  const lastAttention = kept.map((s) => s.kind).lastIndexOf("attention");
  const steps = kept.map((s, i): PlanStep => ({ ...s, last: i >= lastAttention }));
  const lastRows = new Set(steps.filter((s) => s.last).map((s) => s.out));

  // Buffers: a linear scan, freeing an activation after its last reader.
  const lastRead = new Map<number, number>();
  steps.forEach((s, i) => stepInputs(s).forEach((v) => lastRead.set(v, i)));
  lastRead.set(p.logits, steps.length);
  const buffers: { width: number; last: boolean }[] = [];
  const free: number[] = [];
  const bufferOf = new Map<number, number>();
  steps.forEach((s, i) => {
    const last = lastRows.has(s.out);
    const width = p.widths[s.out]!;
    // The free buffer of its kind closest in width (the widest grows when none is wide enough).
    let pick = -1;
    for (const b of free) {
      if (buffers[b]!.last !== last) continue;
      if (pick < 0 || Math.abs(buffers[b]!.width - width) < Math.abs(buffers[pick]!.width - width)) pick = b;
    }
    if (pick < 0) {
      buffers.push({ width, last });
      pick = buffers.length - 1;
    } else {
      free.splice(free.indexOf(pick), 1);
      buffers[pick]!.width = Math.max(buffers[pick]!.width, width);
    }
    bufferOf.set(s.out, pick);
    for (const v of new Set(stepInputs(s))) if (lastRead.get(v) === i) free.push(bufferOf.get(v)!);
  });

  const values: PlanValue[] = p.widths.map((width, id) => ({ width, last: lastRows.has(id), buffer: bufferOf.get(id) ?? -1 }));
  const planBuffers: PlanBuffer[] = buffers.map((b) => ({ width: b.width, last: b.last }));
  return { name, vocab, blockSize, tensors: p.tensors, values, buffers: planBuffers, caches: p.caches, steps, logits: p.logits };
}

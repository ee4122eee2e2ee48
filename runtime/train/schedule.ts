// Learning-rate schedules: constant, or nanoGPT's linear warmup followed by a cosine decay to min_lr at
// max_iters.
import type { ScheduleSpec } from "../../compiler/index.js";

export function learningRate(step: number, peak: number, schedule: ScheduleSpec, maxIters: number): number {
  if (schedule.type === "constant") return peak;
  const { warmup_iters: warmup, min_lr: minLr } = schedule;
  if (step < warmup) return (peak * (step + 1)) / (warmup + 1);
  if (step >= maxIters) return minLr;
  const ratio = (step - warmup) / Math.max(1, maxIters - warmup);
  const coeff = 0.5 * (1 + Math.cos(Math.PI * ratio));
  return minLr + coeff * (peak - minLr);
}

// The arithmetic of a generation (bench/plan-flops.ts), which the batch ceiling divides by the machine's
// product speed: held to the count written out by hand from the baby GPT's sizes (4 blocks of 4 heads,
// width 128, a 64-token context, vocabulary 65), step by step and over the protocol's feed schedule.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodePlan, loadSpec, lowerSpec, type DecodePlan } from "../../compiler/index.js";
import { generationFlops, stepFlops } from "../../bench/plan-flops.js";
import { PROJECT_ROOT } from "../helpers/project.js";

const plan = ((): DecodePlan => {
  const p = decodePlan(lowerSpec(loadSpec(join(PROJECT_ROOT, "specs/12-baby-gpt.yaml"), { cwd: PROJECT_ROOT })), 65);
  if ("unsupported" in p) throw new Error(p.unsupported);
  return p;
})();

const C = 128, L = 4, H = 4, hs = 32, V = 65, block = 64;

/** Keys the queries at positions past … past + T − 1 see (causal), summed. */
const keys = (T: number, past: number, window = 0): number => {
  let n = 0;
  for (let p = past; p < past + T; p++) n += window > 0 ? Math.min(p + 1, window) : p + 1;
  return n;
};

/** By hand: every block but the last on all B·T rows (q, k, v 3C², the projection C², the MLP 8C², two
 * operations a multiply-add); the last block's q, k, v on all rows, its attention for the last query
 * alone and everything after it on B rows; scores and weighted values 2·2·hs a key per head. */
function byHand(B: number, T: number, past: number, window = 0): number {
  const rows = B * T;
  const fullBlocks = (L - 1) * (2 * rows * 12 * C * C + B * H * keys(T, past, window) * 4 * hs);
  const lastBlock = 2 * rows * 3 * C * C + B * H * keys(1, past + T - 1, window) * 4 * hs + 2 * B * 9 * C * C;
  return fullBlocks + lastBlock + 2 * B * V * C;
}

describe("the plan's arithmetic", () => {
  it.each([
    [1, 1, 0],
    [8, 1, 0],
    [8, 1, 40],
    [1, 64, 0],
    [8, 64, 0],
    [3, 5, 7],
  ])("a step of %i sequences of %i new positions after %i is the count by hand", (B, T, past) => {
    expect(stepFlops(plan, B, T, past)).toBe(byHand(B, T, past));
  });

  it("counts only the keys a sliding window lets a query see", () => {
    const windowed: DecodePlan = { ...plan, steps: plan.steps.map((s) => (s.kind === "attention" ? { ...s, window: 4 } : s)) };
    expect(stepFlops(windowed, 2, 1, 50)).toBe(byHand(2, 1, 50, 4));
    expect(stepFlops(windowed, 2, 1, 50)).toBeLessThan(stepFlops(plan, 2, 1, 50));
  });

  it("a generation is its steps as generate feeds them: one position while the context lasts, then the whole window", () => {
    // A prompt of 1 token, 128 new: steps at lengths 1 … 64 feed one new position after length − 1 cached;
    // from length 65 on, the last 64 tokens as a window, nothing cached.
    let expected = 0;
    for (let length = 1; length <= 64; length++) expected += byHand(8, 1, length - 1);
    for (let length = 65; length < 129; length++) expected += byHand(8, block, 0);
    expect(generationFlops(plan, 8, 1, 128)).toBe(expected);
    expect(generationFlops(plan, 8, 1, 128)).toBe(8 * generationFlops(plan, 1, 1, 128));
  });
});

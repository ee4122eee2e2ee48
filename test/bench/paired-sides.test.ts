// A paired round runs both sides one after the other, the order flipped every round, so that a machine
// whose speed drifts weighs on both sides alike (bench/paired-sides.ts's pairedRound, which the paired
// step, the paired sampling and the batch ceiling share).
import { describe, expect, it } from "vitest";
import { pairedRound } from "../../bench/paired-sides.js";

describe("pairedRound", () => {
  it.each([
    [0, ["ours", "torch"]],
    [1, ["torch", "ours"]],
    [2, ["ours", "torch"]],
    [7, ["torch", "ours"]],
  ])("round %i runs %j, and returns each side's result under its name", (i, order) => {
    const calls: string[] = [];
    const r = pairedRound(
      i,
      () => (calls.push("ours"), 1),
      () => (calls.push("torch"), "t"),
    );
    expect(calls).toEqual(order);
    expect(r).toEqual({ ours: 1, torch: "t" });
  });
});

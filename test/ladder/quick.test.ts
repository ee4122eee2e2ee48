// Every ladder spec trains 20 steps in --quick mode (batch 4) with a falling loss. (That each compiles to
// its golden is test/compiler/golden.test.ts.)
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listSpecs, projectAt } from "../../compiler/compile.js";
import { loadSpec } from "../../compiler/spec/load.js";
import { QUICK_ITERS, runLadder } from "../../runtime/ladder/ladder.js";
import { PROJECT_ROOT, tempFiles, useSharedData } from "../helpers/project.js";

useSharedData();
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("ladder --quick", () => {
  // Its own timeout: 15 specs (the modern one on reference ops, with an exact evaluation of the val split)
  // passed the default 180 s on a machine with ten busy processes on two cores.
  it("trains every spec 20 steps with a falling loss, and skips finished steps when run again", { timeout: 400_000 }, async () => {
    const dir = join(tempFiles({}), "ladder");
    const state = await runLadder({ quick: true, dir });
    const names = listSpecs(projectAt(PROJECT_ROOT)).map((s) => loadSpec(s, { cwd: PROJECT_ROOT }).spec.name);
    expect(Object.keys(state.steps).sort()).toEqual([...names].sort());
    for (const name of names) {
      const step = state.steps[name]!;
      expect(step.losses, name).toHaveLength(QUICK_ITERS);
      expect(mean(step.losses.slice(-5)), name).toBeLessThan(mean(step.losses.slice(0, 5)));
      expect(Number.isFinite(step.valLoss), name).toBe(true);
      expect(step.sample.length, name).toBeGreaterThan(0);
    }
    const lines: string[] = [];
    await runLadder({ quick: true, dir, only: ["bigram"], log: (l) => lines.push(l) });
    expect(lines.some((l) => l.startsWith("bigram: done earlier"))).toBe(true);
  });
});

// Every architecture of the zoo (specs/zoo/) trains: a few steps of the real trainer from its committed
// generated code, at a small batch and a constant learning rate, with a finite loss that falls. (That
// each compiles to its goldens is test/compiler/golden.test.ts; that each computes what PyTorch does is
// test/parity/; the zoo's full budget and its report are `babygpt zoo`.)
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listZoo, projectAt } from "../../compiler/compile.js";
import { train } from "../../runtime/train/trainer.js";
import { PROJECT_ROOT, tempFiles, useSharedData } from "../helpers/project.js";

useSharedData();
const STEPS = 6;
/** A batch of 4 and no warmup, so six steps visibly move a 200K-parameter model; one batch per estimate. */
const SETS = ["training.batch_size=4", "training.schedule.type=constant", "training.optimizer.lr=3e-3", "training.eval_iters=1", `training.eval_interval=${STEPS}`];

describe("the zoo trains", () => {
  const work = tempFiles({});
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  it.each(listZoo(projectAt(PROJECT_ROOT)))("%s", { timeout: 60_000 }, async (spec) => {
    const result = await train({ spec: join(PROJECT_ROOT, spec), sets: SETS, iters: STEPS, out: join(work, spec.replace(/\W+/g, "_")), compile: false });
    expect(result.status).toBe("done");
    expect(result.losses).toHaveLength(STEPS);
    for (const loss of result.losses) expect(Number.isFinite(loss)).toBe(true);
    // From about ln 65 = 4.17 at the start; the first two steps against the last two.
    expect(result.losses[STEPS - 1]! + result.losses[STEPS - 2]!).toBeLessThan(result.losses[0]! + result.losses[1]! - 0.1);
    expect(result.evals.at(-1)?.step).toBe(STEPS);
  });
});

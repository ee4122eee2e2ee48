// The torch engine draws its batches and learning rates as the TypeScript trainer does: runtime/torch/
// stream.py's Prng is runtime/random.ts's, bit for bit, and its learning_rate is schedule.ts's. (Plain
// Python: no torch needed.)
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ScheduleSpec } from "../../compiler/spec/types.generated.js";
import { sampleWindows } from "../../runtime/data/batches.js";
import { Prng } from "../../runtime/random.js";
import { learningRate } from "../../runtime/train/schedule.js";
import { PROJECT_ROOT } from "../helpers/project.js";

const SEEDS = [0, 1337, 0x5bd1e995 ^ 1337, -7, 2 ** 32 - 1];
const SCHEDULES: ScheduleSpec[] = [
  { type: "cosine", warmup_iters: 5, min_lr: 3e-4 },
  { type: "cosine", warmup_iters: 0, min_lr: 0 },
  { type: "constant", warmup_iters: 0, min_lr: 0 },
];

function python(code: string): unknown {
  const out = execFileSync("/usr/bin/python3", ["-c", `import sys, json; sys.path.insert(0, ${JSON.stringify(join(PROJECT_ROOT, "runtime/torch"))}); sys.dont_write_bytecode = True\n${code}`], { encoding: "utf8" });
  return JSON.parse(out) as unknown;
}

describe("the torch engine's number streams", () => {
  it("Prng gives runtime/random.ts's outputs and states, and the same window starts", () => {
    const theirs = python(`
from stream import Prng, window_starts
out = []
for seed in ${JSON.stringify(SEEDS)}:
    p = Prng(seed)
    u = [p.next_uint32() for _ in range(200)]
    starts = window_starts(p, 1003854, 64, 256)
    out.append({"u": u, "starts": starts, "state": p.state, "float": p.next_float()})
print(json.dumps(out))`);
    const ours = SEEDS.map((seed) => {
      const p = new Prng(seed);
      const u = Array.from({ length: 200 }, () => p.nextUint32());
      const data = new Int32Array(1003854).map((_, i) => i);
      const starts = Array.from(sampleWindows(data, 64, 256, p).x.filter((_, i) => i % 256 === 0));
      return { u, starts, state: [...p.state], float: p.nextFloat() };
    });
    expect(theirs).toEqual(ours);
  });

  it("learning_rate gives schedule.ts's rates", () => {
    const theirs = python(`
from stream import learning_rate
print(json.dumps([[learning_rate(s, 3e-3, sched, 20) for s in range(25)] for sched in ${JSON.stringify(SCHEDULES)}]))`) as number[][];
    SCHEDULES.forEach((schedule, i) => {
      const ours = Array.from({ length: 25 }, (_, s) => learningRate(s, 3e-3, schedule, 20));
      theirs[i]!.forEach((lr, s) => expect(lr).toBeCloseTo(ours[s]!, 15));
    });
  });
});

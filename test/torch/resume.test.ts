// Resuming with the torch engine: N torch steps + N resumed torch steps = 2N torch steps, bit for bit; a
// torch run resumes under the tfjs trainer and a tfjs run under torch (weights, Adam moments and the
// batch stream carry over), matching an uninterrupted run to float rounding, which is all that can hold
// across two frameworks' arithmetic.
import { cpSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { trainTorch, type TorchTrainResult } from "../../runtime/torch/engine.js";
import { train } from "../../runtime/train/trainer.js";
import { tempFiles, useSharedData } from "../helpers/project.js";
import { torchUnavailable } from "../helpers/torch.js";
import { maxDiff, tinySpec } from "./tiny.js";

useSharedData();

describe.skipIf(torchUnavailable() !== undefined)("resuming with the torch engine", () => {
  const spec = tinySpec();
  const cpu = { nproc: 1, device: "cpu" } as const;
  let whole: TorchTrainResult;
  let half: TorchTrainResult;
  let halfDir: string;

  beforeAll(async () => {
    whole = await trainTorch({ spec, out: join(tempFiles({}), "whole"), ...cpu });
    halfDir = join(tempFiles({}), "half");
    half = await trainTorch({ spec, out: halfDir, iters: 10, ...cpu });
  });

  it("repeats an uninterrupted torch run exactly: 10 steps + 10 resumed = 20 steps", async () => {
    const dir = join(tempFiles({}), "resumed");
    cpSync(halfDir, dir, { recursive: true });
    const rest = await trainTorch({ resume: dir, iters: 20, ...cpu });
    expect(rest.step).toBe(20);
    expect([...half.losses, ...rest.losses]).toEqual(whole.losses);
    expect(rest.evals.at(-1)).toEqual(whole.evals.at(-1));
  });

  it("continues a torch run under the tfjs trainer", async () => {
    const dir = join(tempFiles({}), "to-tfjs");
    cpSync(halfDir, dir, { recursive: true });
    const rest = await train({ resume: dir, iters: 20, backend: "native" });
    expect(rest.step).toBe(20);
    expect(maxDiff(rest.losses, whole.losses.slice(10))).toBeLessThanOrEqual(1e-4);
  });

  it("continues a tfjs run under torch", async () => {
    const dir = join(tempFiles({}), "from-tfjs");
    const first = await train({ spec, out: dir, iters: 10, backend: "native" });
    const rest = await trainTorch({ resume: dir, iters: 20, ...cpu });
    expect(rest.step).toBe(20);
    expect(maxDiff([...first.losses, ...rest.losses], whole.losses)).toBeLessThanOrEqual(1e-4);
  });
});

// Ctrl-C during `train`: the first SIGINT finishes the step, saves a checkpoint and exits 0, and --resume
// continues from it; a second SIGINT exits at once, leaving the last checkpoint whole.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCheckpoint } from "../../runtime/checkpoint/checkpoint.js";
import { tempFiles } from "../helpers/project.js";
import { runCli, startCli } from "./cli.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until metrics.jsonl holds a training record: the run is past its first steps. */
async function waitForTraining(dir: string, running: () => boolean): Promise<void> {
  const metrics = join(dir, "metrics.jsonl");
  while (running() && !(existsSync(metrics) && readFileSync(metrics, "utf8").includes('"type":"train"'))) await sleep(20);
}

describe("Ctrl-C during train", () => {
  it.concurrent("saves a checkpoint at the step it stopped at and exits 0; --resume continues from it", async () => {
    const dir = join(tempFiles({}), "run");
    // eval every 100 steps, so a training record lands in metrics.jsonl every 10 steps; no periodic checkpoints
    const run = startCli(["train", "specs/01-bigram.yaml", "--set", "training.eval_interval=100", "--set", "training.eval_iters=2", "--iters", "1000000", "--out", dir]);
    await waitForTraining(dir, () => run.child.exitCode === null);
    run.child.kill("SIGINT");
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    const stopped = /^interrupted at step (\d+)/m.exec(r.stdout);
    expect(stopped, r.stdout).not.toBeNull();
    const step = Number(stopped![1]);
    expect(step).toBeGreaterThanOrEqual(10);
    expect(r.stdout).toContain(`checkpoint in ${dir}`);

    const checkpoint = loadCheckpoint(dir);
    expect(checkpoint.meta.step).toBe(step);
    expect(existsSync(join(dir, ".next"))).toBe(false);

    const resumed = await runCli(["train", "--resume", dir, "--iters", String(step + 5), "--quiet"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resuming ${dir} at step ${step}`);
    expect(resumed.stdout).toContain(`finished at step ${step + 5}`);
    expect(loadCheckpoint(dir).meta.step).toBe(step + 5);
  });

  it.concurrent("exits at once on a second Ctrl-C, and the last checkpoint still loads", async () => {
    const dir = join(tempFiles({}), "run");
    // A long evaluation at step 0 (500 batches per split on a transformer) holds the process busy while
    // both signals arrive; they are handled together after the first step, before any further checkpoint.
    const run = startCli(["train", "specs/09-layernorm.yaml", "--set", "training.eval_iters=500", "--iters", "1000000", "--out", dir]);
    expect(await run.waitForStderr("run directory:"), run.stderr()).toBe(true);
    run.child.kill("SIGINT");
    await sleep(50); // apart, so the kernel delivers two signals rather than merging them into one
    run.child.kill("SIGINT");
    const r = await run.done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stdout).not.toContain("interrupted at step");
    const checkpoint = loadCheckpoint(dir);
    expect(checkpoint.meta.step).toBe(0);
    expect(existsSync(join(dir, ".next"))).toBe(false);
  });
});

// Every way a training can be asked to end keeps its last checkpoint: Ctrl-C (SIGINT), SIGTERM and SIGHUP
// finish the step, save a checkpoint and exit 0, and --resume continues from it; a Ctrl-C during a long
// evaluation is heard at once; a second signal exits at once, leaving the last checkpoint whole; a closed
// stdout and stderr do not stop the training; and under npx, Ctrl-C exits 0 as documented.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCheckpoint } from "../../runtime/checkpoint/checkpoint.js";
import { tempFiles } from "../helpers/project.js";
import { PROJECT_ROOT, runCli, runInTerminal, startCli, type CliResult } from "./cli.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sets = (...s: string[]): string[] => s.flatMap((x) => ["--set", x]);

/** Waits until metrics.jsonl holds a training record: the run is past its first steps. */
async function waitForTraining(dir: string, running: () => boolean): Promise<void> {
  const metrics = join(dir, "metrics.jsonl");
  while (running() && !(existsSync(metrics) && readFileSync(metrics, "utf8").includes('"type":"train"'))) await sleep(20);
}

/** The run's exit, or a failure if it takes longer than `seconds` (the process is killed then). */
async function within(run: ReturnType<typeof startCli>, seconds: number): Promise<CliResult> {
  const timer = setTimeout(() => run.child.kill("SIGKILL"), seconds * 1000);
  const r = await run.done;
  clearTimeout(timer);
  expect(r.signal, `still running after ${seconds} s`).not.toBe("SIGKILL");
  return r;
}

// eval every 100 steps, so a training record lands in metrics.jsonl every 10 steps; no periodic checkpoints
const LONG = [...sets("training.eval_interval=100", "training.eval_iters=2"), "--iters", "1000000"];

describe("stopping a training", () => {
  it.concurrent("Ctrl-C saves a checkpoint at the step it stopped at and exits 0; --resume continues from it", async () => {
    const dir = join(tempFiles({}), "run");
    const run = startCli(["train", "specs/01-bigram.yaml", ...LONG, "--out", dir]);
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

  it.concurrent.each(["SIGTERM", "SIGHUP"] as const)("%s saves a checkpoint at the step it stopped at and exits 0, as Ctrl-C does", async (signal) => {
    const dir = join(tempFiles({}), "run");
    const run = startCli(["train", "specs/01-bigram.yaml", ...LONG, "--out", dir]);
    await waitForTraining(dir, () => run.child.exitCode === null);
    run.child.kill(signal);
    const r = await run.done;
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(0);
    const stopped = /^interrupted at step (\d+)/m.exec(r.stdout);
    expect(stopped, r.stdout).not.toBeNull();
    expect(Number(stopped![1])).toBeGreaterThanOrEqual(10);
    expect(loadCheckpoint(dir).meta.step).toBe(Number(stopped![1]));
    expect(existsSync(join(dir, "train.lock"))).toBe(false);
  });

  it.concurrent("a Ctrl-C during a long evaluation is heard at once: the evaluation stops, the step's checkpoint is saved, exit 0", async () => {
    const dir = join(tempFiles({}), "run");
    // 100,000 batches per split at step 0: many minutes of evaluation before the first step
    const run = startCli(["train", "specs/09-layernorm.yaml", ...sets("training.eval_iters=100000"), "--iters", "1000000", "--out", dir]);
    expect(await run.waitForStderr("run directory:"), run.stderr()).toBe(true);
    await sleep(1000);
    run.child.kill("SIGINT");
    const r = await within(run, 60);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("the evaluation at step 0 was cut short; the checkpoint holds this step's weights");
    expect(r.stdout).toMatch(/^interrupted at step 0; checkpoint in /m);
    const { meta } = loadCheckpoint(dir);
    expect(meta.step).toBe(0);
    expect(meta.lastEval).toBeUndefined(); // the cut-short estimate was not recorded as one
  });

  it.concurrent("a second signal exits at once without another checkpoint, and the last checkpoint still loads", async () => {
    const dir = join(tempFiles({}), "run");
    const first = await runCli(["train", "specs/12-baby-gpt.yaml", ...sets("training.eval_iters=1"), "--iters", "1", "--out", dir, "--quiet"]);
    expect(first.code, first.stderr).toBe(0);
    // At batch 256 a step of the baby GPT is a long synchronous stretch: both signals arrive inside one.
    const run = startCli(["train", "--resume", dir, ...sets("training.batch_size=256"), "--iters", "1000"]);
    expect(await run.waitForStderr("run directory:"), run.stderr()).toBe(true);
    await sleep(300);
    // Two different signals: two of the same sent while a loaded machine has not scheduled the process
    // merge into one (standard signals do not queue), whatever the time between them.
    run.child.kill("SIGINT");
    run.child.kill("SIGTERM");
    const r = await within(run, 60);
    // the shell's code for the second signal heard: 130 for SIGINT, 143 for SIGTERM (the kernel may deliver them in either order)
    expect([130, 143], r.stderr).toContain(r.code);
    expect(r.stdout).not.toContain("interrupted at step");
    expect(loadCheckpoint(dir).meta.step).toBe(1);
    expect(existsSync(join(dir, ".next"))).toBe(false);
  });

  it.concurrent("a closed stdout and stderr (`train … 2>&1 | head -1`) neither stop the training nor lose it", async () => {
    const dir = join(tempFiles({}), "run");
    const run = startCli(["train", "specs/01-bigram.yaml", ...sets("training.eval_interval=20", "training.eval_iters=2"), "--iters", "400", "--out", dir]);
    // the reader goes away after the first line, as head does
    await run.waitForStderr("\n");
    run.child.stdout!.destroy();
    run.child.stderr!.destroy();
    const r = await run.done;
    expect(r.code).toBe(0);
    const { meta } = loadCheckpoint(dir);
    expect(meta.step).toBe(400);
    const evals = readFileSync(join(dir, "metrics.jsonl"), "utf8").split("\n").filter((l) => l.includes('"type":"eval"'));
    expect(evals).toHaveLength(21); // steps 0, 20, …, 400: every evaluation was made and recorded
  });
});

describe("Ctrl-C under npx, in a terminal", () => {
  it("exits 0 as documented (npm's shell no longer turns it into 130)", async () => {
    const dir = join(tempFiles({}), "run");
    const t = await runInTerminal(`npx babygpt train ${join(PROJECT_ROOT, "specs/01-bigram.yaml")} ${LONG.join(" ")} --out ${dir}`, {
      keys: [{ after: /step 100: train loss/, send: "\x03" }],
    });
    expect(t.output).toMatch(/interrupted at step \d+/);
    expect(t.code, t.output).toBe(0);
    expect(loadCheckpoint(dir).meta.step).toBeGreaterThanOrEqual(100);
  });
});

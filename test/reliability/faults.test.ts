// Faults while training: a loss that turns NaN or infinite (stop, naming the last good checkpoint, or skip
// the batch), and a checkpoint write that fails on a full or read-only disk (the previous checkpoint stays
// whole and the message says why). The disk cases mount a small tmpfs, which needs root (CAP_SYS_ADMIN);
// where mounting is not allowed they are skipped, and the injected-writer test in
// test/runtime/checkpoint.test.ts covers the protocol alone.
import { execFileSync } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync, rmdirSync, truncateSync, writeSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCheckpoint } from "../../runtime/checkpoint/checkpoint.js";
import { tempFiles } from "../helpers/project.js";
import { runCli, snapshot, stackLines } from "./cli.js";

const sets = (...s: string[]): string[] => s.flatMap((x) => ["--set", x]);
// SGD at lr 1e20 on a model with a linear head: the first update blows the weights up and the logits
// overflow within a step or two.
const EXPLODE = sets("training.optimizer.lr=1e20", "training.eval_iters=2", "training.batch_size=8");

const nanRecords = (dir: string): number[] =>
  readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.includes('"type":"nan"'))
    .map((l) => (JSON.parse(l) as { step: number }).step);

const allFinite = (dir: string): boolean => [...loadCheckpoint(dir).model.values()].every((t) => t.data.every((v) => Number.isFinite(v)));

describe("a loss that is not finite", () => {
  it.concurrent("on_nan: stop exits 2 naming the step and the last good checkpoint, which holds finite weights", async () => {
    const dir = join(tempFiles({}), "run");
    const r = await runCli(["train", "specs/02-position.yaml", ...EXPLODE, ...sets("training.eval_interval=1000"), "--iters", "50", "--out", dir]);
    expect(r.code, r.stderr).toBe(2);
    expect(stackLines(r.stderr)).toEqual([]);
    const last = r.stderr.trimEnd().split("\n").at(-1)!;
    const m = /^error: the loss became (NaN|Infinity|-Infinity) at step (\d+); the last good checkpoint is in (.*) \(step (\d+)\)\. Lower the learning rate, set training\.grad_clip, or set training\.on_nan: skip$/.exec(last);
    expect(m, last).not.toBeNull();
    const [, , badStep, where, goodStep] = m!;
    expect(where).toBe(dir);
    expect(nanRecords(dir)).toEqual([Number(badStep)]);
    expect(Number(goodStep)).toBe(0); // the only checkpoint: the evaluation at step 0
    expect(loadCheckpoint(dir).meta.step).toBe(0);
    expect(allFinite(dir)).toBe(true);
  });

  it.concurrent("on_nan: stop with an evaluation every step keeps the last checkpoint whose loss was finite", async () => {
    const dir = join(tempFiles({}), "run");
    const r = await runCli(["train", "specs/02-position.yaml", ...EXPLODE, ...sets("training.eval_interval=1"), "--iters", "50", "--out", dir]);
    expect(r.code, r.stderr).toBe(2);
    const last = r.stderr.trimEnd().split("\n").at(-1)!;
    const m = /^error: the loss became \S+ at step (\d+); the last good checkpoint is in (.*) \(step (\d+)\)\./.exec(last);
    expect(m, last).not.toBeNull();
    const [, badStep, , goodStep] = m!;
    expect(Number(goodStep)).toBeLessThan(Number(badStep));
    const checkpoint = loadCheckpoint(dir);
    expect(checkpoint.meta.step).toBe(Number(goodStep));
    expect(Number.isFinite(checkpoint.meta.lastEval!.train) && Number.isFinite(checkpoint.meta.lastEval!.val)).toBe(true);
    expect(allFinite(dir)).toBe(true);
  });

  it.concurrent("on_nan: skip skips each bad batch without an update and trains to the end", async () => {
    const dir = join(tempFiles({}), "run");
    const r = await runCli(["train", "specs/02-position.yaml", ...EXPLODE, ...sets("training.eval_interval=1000", "training.on_nan=skip"), "--iters", "8", "--out", dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^finished at step 8/);
    const skipped = nanRecords(dir);
    expect(skipped.length).toBeGreaterThan(0);
    for (const s of skipped) expect(r.stderr).toMatch(new RegExp(`^step ${s}: loss \\S+, batch skipped \\(training\\.on_nan: skip\\)$`, "m"));
    const { meta } = loadCheckpoint(dir);
    expect(meta.step).toBe(8);
    // the optimizer counts the updates it applied: one per step that was not skipped
    expect(meta.optimizerStep).toBe(8 - skipped.length);
  });
});

/** Mounts a tmpfs of `size` at `dir`; false where this process may not mount. */
function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const probe = tempFiles({});
const canMount = process.platform === "linux" && mountTmpfs(probe, "64k");
if (canMount) execFileSync("umount", [probe]);
rmdirSync(probe);

describe.skipIf(!canMount)("a checkpoint write that fails (tmpfs)", () => {
  let disk: string;
  const run = (): string => join(disk, "run");
  beforeAll(async () => {
    disk = tempFiles({});
    expect(mountTmpfs(disk, "2m")).toBe(true);
  });
  afterAll(() => {
    execFileSync("umount", [disk]);
    rmdirSync(disk);
  });

  it("on a full disk leaves the previous checkpoint intact, says why, and resumes once there is room", async () => {
    const quiet = sets("training.checkpoint_interval=1", "training.eval_interval=100000", "training.eval_iters=2", "training.batch_size=8");
    const first = await runCli(["train", "specs/01-bigram.yaml", ...quiet, "--iters", "3", "--out", run(), "--quiet"]);
    expect(first.code, first.stderr).toBe(0);
    const before = snapshot(run());

    // fill the disk, then free two pages: enough for nothing but the first file of a new checkpoint
    const filler = join(disk, "filler");
    const fd = openSync(filler, "w");
    const block = Buffer.alloc(4096, 1);
    let size = 0;
    try {
      for (;;) size += writeSync(fd, block);
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe("ENOSPC");
    } finally {
      closeSync(fd);
    }
    truncateSync(filler, size - 8192);

    const r = await runCli(["train", "--resume", run(), "--iters", "10", "--quiet"]);
    expect(r.code, r.stderr).toBe(2);
    expect(stackLines(r.stderr)).toEqual([]);
    expect(r.stderr.trimEnd().split("\n").at(-1)).toBe(`error: could not write the checkpoint in ${run()} (the disk is full); the previous checkpoint is intact`);
    expect(snapshot(run())).toEqual(before);
    expect(loadCheckpoint(run()).meta.step).toBe(3);

    rmSync(filler);
    const resumed = await runCli(["train", "--resume", run(), "--iters", "6", "--quiet"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(loadCheckpoint(run()).meta.step).toBe(6);
  });

  it("on a read-only disk leaves the previous checkpoint intact and says why", async () => {
    const before = snapshot(run());
    const step = loadCheckpoint(run()).meta.step;
    execFileSync("mount", ["-o", "remount,ro", disk]);
    try {
      const r = await runCli(["train", "--resume", run(), "--iters", String(step + 5), "--quiet"]);
      expect(r.code, r.stderr).toBe(2);
      expect(stackLines(r.stderr)).toEqual([]);
      // the first thing a training writes is its lock: refused there, before any work
      expect(r.stderr.trimEnd().split("\n").at(-1)).toBe(`error: cannot train in ${run()}: its lock file could not be written (the run directory is not writable); the checkpoint there is intact`);
    } finally {
      execFileSync("mount", ["-o", "remount,rw", disk]);
    }
    expect(snapshot(run())).toEqual(before);
    expect(loadCheckpoint(run()).meta.step).toBe(step);
  });
});

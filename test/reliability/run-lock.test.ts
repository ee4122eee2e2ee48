// One writer per run directory: while a training holds a run, a second `train --out` into it and a
// `train --resume` of it are refused with one line naming the holder, and reading it (sample) neither
// fails nor disturbs it; two trainings started into the same --out at once leave one run, not a mix;
// a lock left by a killed training is taken over by the next --resume.
import { cpSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCheckpoint } from "../../runtime/checkpoint/checkpoint.js";
import { tempFiles } from "../helpers/project.js";
import { runCli, stackLines, startCli } from "./cli.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sets = (...s: string[]): string[] => s.flatMap((x) => ["--set", x]);
const LONG = [...sets("training.eval_interval=100", "training.eval_iters=2", "training.checkpoint_interval=50"), "--iters", "1000000"];

async function waitForTraining(dir: string, running: () => boolean): Promise<void> {
  const metrics = join(dir, "metrics.jsonl");
  while (running() && !(existsSync(metrics) && readFileSync(metrics, "utf8").includes('"type":"train"'))) await sleep(20);
}

describe("one writer per run directory", () => {
  it.concurrent("refuses a second train --out or --resume while a training holds the run, naming the holder; sample still reads it", async () => {
    const dir = join(tempFiles({}), "run");
    const holder = startCli(["train", "specs/01-bigram.yaml", ...LONG, "--out", dir]);
    await waitForTraining(dir, () => holder.child.exitCode === null);
    const pid = holder.child.pid!;
    const names = `\\(pid ${pid}, since \\S+: babygpt train specs/01-bigram\\.yaml`;

    const [second, resume, sample] = await Promise.all([
      runCli(["train", "specs/01-bigram.yaml", "--iters", "5", "--out", dir]),
      runCli(["train", "--resume", dir, "--iters", "2000000"]),
      runCli(["sample", dir, "--tokens", "20"]),
    ]);
    for (const r of [second, resume]) {
      expect(r.code, r.stderr).toBe(2);
      expect(stackLines(r.stderr)).toEqual([]);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    }
    expect(second.stderr).toMatch(new RegExp(`^error: --out ${dir} is being trained by another process ${names}.*\\); choose a new directory\\n$`));
    expect(resume.stderr).toMatch(new RegExp(`^error: ${dir} is being trained by another process ${names}.*\\); wait for it to finish or stop it first\\n$`));
    expect(sample.code, sample.stderr).toBe(0);
    expect(sample.stdout.length).toBeGreaterThan(0);

    holder.child.kill("SIGINT");
    const r = await holder.done;
    expect(r.code, r.stderr).toBe(0);
    const step = Number(/^interrupted at step (\d+)/m.exec(r.stdout)![1]);
    expect(loadCheckpoint(dir).meta.step).toBe(step);
    expect(existsSync(join(dir, "train.lock"))).toBe(false);
    // one training wrote the metrics: its steps rise without repeats
    const steps = readFileSync(join(dir, "metrics.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as { type: string; step: number }).filter((m) => m.type === "train").map((m) => m.step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(new Set(steps).size).toBe(steps.length);
  });

  it.concurrent("lets exactly one of two trainings started into the same --out at once run", async () => {
    const dir = join(tempFiles({}), "run");
    const args = ["train", "specs/01-bigram.yaml", ...sets("training.eval_interval=500", "training.eval_iters=2"), "--iters", "3000", "--out", dir, "--quiet"];
    const results = await Promise.all([runCli(args), runCli(args)]);
    const codes = results.map((r) => r.code).sort();
    expect(codes, results.map((r) => r.stderr).join("\n")).toEqual([0, 2]);
    const refused = results.find((r) => r.code === 2)!;
    // refused by the lock, or (if it came late enough) because the run's files were there
    expect(refused.stderr.trimEnd().split("\n").at(-1)).toMatch(/is being trained by another process \(pid \d+, since |exists and is not empty/);
    const evals = readFileSync(join(dir, "metrics.jsonl"), "utf8").split("\n").filter((l) => l.includes('"type":"eval"'));
    expect(evals).toHaveLength(7); // steps 0, 500, …, 3000 of the one training
    expect(loadCheckpoint(dir).meta.step).toBe(3000);
  });

  it.concurrent("takes over the lock a killed training left, on --resume", async () => {
    const dir = join(tempFiles({}), "run");
    const victim = startCli(["train", "specs/01-bigram.yaml", ...LONG, "--out", dir]);
    await waitForTraining(dir, () => victim.child.exitCode === null);
    const pid = victim.child.pid!;
    victim.child.kill("SIGKILL");
    await victim.done;
    expect(JSON.parse(readFileSync(join(dir, "train.lock"), "utf8")).pid).toBe(pid);

    // the step the run will resume at, read from a copy so the run stays as the kill left it
    const copy = join(tempFiles({}), "copy");
    cpSync(dir, copy, { recursive: true });
    const step = loadCheckpoint(copy).meta.step;
    const r = await runCli(["train", "--resume", dir, "--iters", String(step + 5), "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^took over ${dir}'s lock from pid ${pid}, since \\S+, which is no longer running$`, "m"));
    expect(loadCheckpoint(dir).meta.step).toBe(step + 5);
    expect(existsSync(join(dir, "train.lock"))).toBe(false);
  });
});

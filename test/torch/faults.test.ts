// The torch engine's failures, through the real CLI: what it needs and lacks (Python, torch, a GPU for
// --device cuda, a free rendezvous port, a batch the processes can share) is refused in one line before
// anything is written; a rank that dies mid-run is named in one line and the last checkpoint stays
// loadable; a stop signal saves a checkpoint at the step it lands on and exits 0, and a second writer
// is refused while the run trains.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCheckpoint } from "../../runtime/checkpoint/checkpoint.js";
import { readMetrics } from "../../runtime/train/metrics.js";
import { tempFiles } from "../helpers/project.js";
import { pythonWithoutTorch, torchUnavailable } from "../helpers/torch.js";
import { runCli, snapshot, stackLines, startCli } from "../reliability/cli.js";
import { tinySpec } from "./tiny.js";

const TORCH = torchUnavailable() === undefined;
const spec = tinySpec();
const train = (...args: string[]): string[] => ["train", spec, "--engine", "torch", ...args];

describe("torch engine refusals", () => {
  let busy: Server;
  let busyPort: number;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    busyPort = (busy.address() as AddressInfo).port;
  });
  afterAll(() => busy.close());

  const cases: [string, () => { args: string[]; env?: Record<string, string> }, RegExp][] = [
    ["no Python", () => ({ args: train(), env: { BABYGPT_PYTHON: "/nonexistent/python3" } }), /^error: the torch engine needs Python 3 \(\/nonexistent\/python3: not found\)/],
    ["a Python without torch", () => ({ args: train(), env: { BABYGPT_PYTHON: pythonWithoutTorch() } }), /^error: the torch engine needs PyTorch \(.*python3: cannot import torch\); install PyTorch/],
    ["torch flags without --engine torch", () => ({ args: ["train", spec, "--nproc", "2"] }), /^error: --nproc is a flag of the torch engine; add --engine torch$/],
    ["a batch the processes cannot share", () => ({ args: train("--nproc", "3") }), /^error: training\.batch_size 8 does not split evenly over 3 processes/],
    ["--nnodes without an endpoint", () => ({ args: train("--nnodes", "2", "--node-rank", "1") }), /^error: --nnodes 2 needs --rdzv-endpoint host:port/],
    ["a rendezvous port in use", () => ({ args: train("--rdzv-endpoint", `127.0.0.1:${busyPort}`) }), /^error: --rdzv-endpoint 127\.0\.0\.1:\d+: port \d+ is already in use on this machine/],
  ];
  if (TORCH) cases.push(["--device cuda without a GPU", () => ({ args: train("--device", "cuda") }), /^error: --device cuda: torch .* sees no CUDA GPU/]);

  it.each(cases)("%s: one line, exit 2, nothing written", async (_what, make, message) => {
    const { args, env } = make();
    const out = join(tempFiles({}), "run");
    const before = snapshot(out);
    const r = await runCli([...args, "--out", out], env);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
    expect(stackLines(r.stderr)).toEqual([]);
    expect(snapshot(out)).toEqual(before);
  });
});

describe.skipIf(!TORCH)("torch engine faults", () => {
  // SGD at lr 1e20 (as test/reliability/faults.test.ts): the weights blow up and the loss overflows within a few steps.
  const explode = ["--set", "training.optimizer.lr=1e20", "--set", "training.eval_iters=2", "--set", "training.batch_size=8", "--set", "training.eval_interval=1000"];
  const nanSteps = (dir: string): number[] => readMetrics(dir).filter((r) => r.type === "nan").map((r) => r.step);

  it.concurrent("on_nan: stop exits 2 naming the step and the last good checkpoint", async () => {
    const out = join(tempFiles({}), "run");
    const r = await runCli(["train", "specs/02-position.yaml", "--engine", "torch", "--device", "cpu", ...explode, "--iters", "50", "--out", out]);
    expect(r.code, r.stderr).toBe(2);
    expect(stackLines(r.stderr)).toEqual([]);
    const last = r.stderr.trimEnd().split("\n").at(-1)!;
    const m = /^error: the loss became (NaN|Infinity) at step (\d+); the last good checkpoint is in (.*) \(step 0\)\. Lower the learning rate, set training\.grad_clip, or set training\.on_nan: skip$/.exec(last);
    expect(m, last).not.toBeNull();
    expect(m![3]).toBe(out);
    expect(nanSteps(out)).toEqual([Number(m![2])]);
    expect(loadCheckpoint(out).meta.step).toBe(0);
  });

  it.concurrent("on_nan: skip skips each bad batch without an update and trains to the end", async () => {
    const out = join(tempFiles({}), "run");
    const r = await runCli(["train", "specs/02-position.yaml", "--engine", "torch", "--device", "cpu", ...explode, "--set", "training.on_nan=skip", "--iters", "8", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    const skipped = nanSteps(out);
    expect(skipped.length).toBeGreaterThan(0);
    for (const s of skipped) expect(r.stderr).toMatch(new RegExp(`^step ${s}: loss \\S+, batch skipped \\(training\\.on_nan: skip\\)$`, "m"));
    const meta = loadCheckpoint(out).meta;
    expect(meta.step).toBe(8);
    expect(meta.optimizerStep).toBe(8 - skipped.length);
  });

  it("names a rank that dies, and keeps the last checkpoint loadable", async () => {
    const out = join(tempFiles({}), "run");
    const r = await runCli([...train("--nproc", "2", "--device", "cpu", "--quiet"), "--out", out], { BABYGPT_TORCH_FAULT: "1:3" });
    expect(r.code, r.stderr).toBe(2);
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/the torch engine stopped at step 3: rank 1 was killed by SIGKILL; the checkpoint in .* \(step 0\) is intact; continue with `babygpt train --resume/);
    expect(stackLines(r.stderr)).toEqual([]);
    expect(loadCheckpoint(out).meta.step).toBe(0);
    expect(existsSync(join(out, "torch", "torchrun.log"))).toBe(true);
  });

  // One run holds several promises the tfjs trainer keeps too: one writer per run (a second train into it
  // is refused naming the holder), a stop signal saves a checkpoint at the step it lands on, the run
  // records its corpus. SIGTERM, not Ctrl-C: the CLI hears SIGINT, SIGTERM and SIGHUP alike
  // (runtime/cli/stop-signals.ts, each held by test/reliability/interrupt.test.ts), and SIGTERM is the one
  // the torch launcher used to answer by killing the ranks with no checkpoint.
  it("saves a checkpoint on SIGTERM (as on Ctrl-C) at the step it stopped at, exits 0, and holds the run against a second writer meanwhile", async () => {
    const out = join(tempFiles({}), "run");
    const run = startCli([...train("--device", "cpu", "--iters", "100000"), "--out", out]);
    expect(await run.waitForStderr("step 0: train loss"), run.stderr()).toBe(true);
    const second = await runCli(["train", "--resume", out, "--engine", "torch"]);
    expect(second.code, second.stderr).toBe(2);
    expect(second.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(second.stderr).toMatch(/is being trained by another process \(pid \d+, since /);
    run.child.kill("SIGTERM");
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    const stopped = /^interrupted at step (\d+)/m.exec(r.stdout);
    expect(stopped, r.stdout).not.toBeNull();
    const step = Number(stopped![1]);
    expect(step).toBeGreaterThan(0);
    expect(step).toBeLessThan(100000);
    const meta = loadCheckpoint(out).meta;
    expect(meta.step).toBe(step);
    expect(meta.corpus?.sha256).toMatch(/^86c4e6aa9db7/);
    // and the hash of its spec.resolved.yaml, which sample, eval and --resume check
    expect(meta.files.spec).toBe(createHash("sha256").update(readFileSync(join(out, "spec.resolved.yaml"))).digest("hex"));
    expect(existsSync(join(out, ".next"))).toBe(false);
    expect(existsSync(join(out, "train.lock"))).toBe(false);
  });
});

describe.skipIf(!TORCH)("a stop before the ranks start, and a run's own folders", () => {
  it("SIGTERM while node 0 waits for its peers ends the job at once, with a step-0 checkpoint that resumes", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const out = join(tempFiles({}), "run");
    // two nodes, and the second never comes: the ranks wait in the rendezvous
    const run = startCli([...train("--device", "cpu", "--nnodes", "2", "--node-rank", "0", "--rdzv-endpoint", `127.0.0.1:${port}`, "--iters", "4"), "--out", out]);
    expect(await run.waitForStderr("run directory:"), run.stderr()).toBe(true);
    run.child.kill("SIGTERM");
    const stoppedAt = Date.now();
    const r = await run.done;
    // at once: well inside the rendezvous's own timeout (minutes), whatever the machine's load
    expect(Date.now() - stoppedAt).toBeLessThan(60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("stopping before training began: ending the ranks now");
    expect(r.stdout).toMatch(/^interrupted at step 0; checkpoint in /m);
    expect(loadCheckpoint(out).meta.step).toBe(0);
    const resumed = await runCli(["train", "--resume", out, "--engine", "torch", "--device", "cpu", "--iters", "2", "--quiet"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(loadCheckpoint(out).meta.step).toBe(2);
  });

  it.concurrent("a torch/ folder that is a link is refused before torchrun starts, and nothing is written through it", async () => {
    const out = join(tempFiles({}), "run");
    const first = await runCli([...train("--device", "cpu", "--iters", "1", "--quiet"), "--out", out]);
    expect(first.code, first.stderr).toBe(0);
    const elsewhere = tempFiles({});
    rmSync(join(out, "torch"), { recursive: true });
    symlinkSync(elsewhere, join(out, "torch"));
    const r = await runCli(["train", "--resume", out, "--engine", "torch", "--device", "cpu", "--iters", "2"]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split("\n").at(-1)).toBe(`error: ${out}/torch is a symbolic link, not a folder of this run; babygpt writes a run's files in the run itself, never through a link (remove it and run the command again)`);
    expect(readdirSync(elsewhere)).toEqual([]);
  });
});

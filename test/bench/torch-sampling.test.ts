// PyTorch's side of the sampling protocol (bench/reference/bench_torch.py --sample-only): a batch of rows
// generated at once (--sample-batch, what bench/batch-ceiling.ts compares with one row) is recorded as
// such, its tokens/s counting every row's tokens; a batch under 1 is refused in one line. Needs torch
// (skipped with the reason, or failing under BABYGPT_REQUIRE_TORCH=1).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PYTHON, torchUnavailable } from "../helpers/torch.js";
import { PROJECT_ROOT } from "../helpers/project.js";

const skip = torchUnavailable();
const SCRIPT = join(PROJECT_ROOT, "bench/reference/bench_torch.py");
const SPEC = join(PROJECT_ROOT, "specs/01-bigram.yaml");

describe.skipIf(skip)(`bench_torch.py's sampling${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("generates --sample-batch rows at once and counts every row's tokens", () => {
    const args = [SCRIPT, SPEC, "--sample-only", "--sample-batch", "3", "--sample-tokens", "5", "--sample-warmup", "1", "--sample-repeats", "1", "--styles", "babygpt", "--settings", "1x1"];
    const r = spawnSync(PYTHON, args, { cwd: PROJECT_ROOT, encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { settings: { sampling?: { batch: number; new_tokens: number; seconds: number; tokens_per_sec: number } }[] };
    const s = report.settings[0]!.sampling!;
    expect(s.batch).toBe(3);
    expect(s.new_tokens).toBe(5);
    expect(s.tokens_per_sec).toBeCloseTo((3 * 5) / s.seconds, 6);
  });

  it("refuses a batch under 1 in one line", () => {
    const r = spawnSync(PYTHON, [SCRIPT, SPEC, "--sample-only", "--sample-batch", "0"], { cwd: PROJECT_ROOT, encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n").at(-1)).toMatch(/--sample-batch must be at least 1$/);
    expect(r.stderr).not.toContain("Traceback");
  });
});

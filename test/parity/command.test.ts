// `babygpt parity SPEC` through the real CLI: a spec whose two targets agree exits 0 with its table; a
// PyTorch module that computes something else, or a tolerance tighter than the rounding the two sides
// differ by, exits 1 naming the check; a Python without torch exits 2 in one line. (That the check
// itself is as strict as the parity tests is by construction: both run runtime/parity/.)
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempFiles } from "../helpers/project.js";
import { pythonWithoutTorch, torchUnavailable } from "../helpers/torch.js";
import { runCli, stackLines } from "../reliability/cli.js";

/** GPT-J's block at width 16: attention, an MLP and a layer norm, so logits and gradients round a little. */
const SPEC = "test/parity/specs/parallel.yaml";
const parity = (...args: string[]): string[] => ["parity", SPEC, "--vocab", "65", ...args];

describe.skipIf(torchUnavailable() !== undefined)("babygpt parity", () => {
  it("passes a spec whose TypeScript model and PyTorch module agree, with the worst error of each kind", { timeout: 120_000 }, async () => {
    const r = await runCli(parity("--backend", "cpu"));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^variant-parallel \(test\/parity\/specs\/parallel\.yaml\): [\d,]+ parameters, vocab 65, batch 2 × 8 tokens/);
    for (const row of [/^logits +\d\.\de-\d +1e-5 +ok/m, /^loss +(0|\d\.\de-\d) +1e-5 +ok/m, /^gradients \(\d+ parameters\) +\d\.\de-\d +1e-3 +ok +\S+/m, /^losses over 5 steps \(3 optimizers\) +\d\.\de-\d +1e-4 +ok/m]) {
      expect(r.stdout).toMatch(row);
    }
    expect(r.stdout).toContain("ok: the two agree within the parity tests' tolerances");
  });

  it("fails a PyTorch module that computes other logits, exit 1, naming the check", { timeout: 120_000 }, async () => {
    const dir = tempFiles({});
    const module = join(dir, "model.py");
    const compiled = await runCli(["compile", SPEC, "--target", "pytorch", "--out", module]);
    expect(compiled.code, compiled.stderr).toBe(0);
    const text = readFileSync(module, "utf8");
    expect(text).toContain("return logits, loss\n");
    writeFileSync(module, text.replace("return logits, loss\n", "return logits * 1.001, loss\n"));
    const r = await runCli(parity("--backend", "cpu", "--steps", "0", "--torch-module", module));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^logits +\d\.\de-\d +1e-5 +FAIL/m);
    expect(r.stdout).toMatch(/^loss +(0|\d\.\de-\d) +1e-5 +ok/m); // the loss is computed before the change
    expect(r.stderr).toMatch(/^FAIL: 1 check beyond the parity tests' tolerances:\n {2}logits: relative error \d\.\d\de-\d > 1e-5$/m);
    expect(stackLines(r.stderr)).toEqual([]);
  });

  it("fails where --tolerance asks for less than the rounding the two sides differ by, exit 1", { timeout: 120_000 }, async () => {
    const r = await runCli(parity("--backend", "cpu", "--steps", "0", "--tolerance", "logits=1e-12"));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^logits +\d\.\de-\d +1e-12 \(tests: 1e-5\) +FAIL/m);
    expect(r.stderr).toContain("FAIL: 1 check beyond the tolerances given:");
  });
});

describe("babygpt parity without PyTorch", () => {
  it("exits 2 with one line saying what is missing", { timeout: 120_000 }, async () => {
    const r = await runCli(parity(), { BABYGPT_PYTHON: pythonWithoutTorch() });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: babygpt parity needs PyTorch \(.*python3: cannot import torch\); install PyTorch/);
  });

  it("refuses a bad --tolerance in one line, exit 2", { timeout: 60_000 }, async () => {
    const r = await runCli(parity("--tolerance", "logit=1e-3"));
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^error: option '--tolerance <kind=value>' argument 'logit=1e-3' is invalid\. --tolerance needs kind=value with kind one of logits, loss, grad, steps/);
  });
});

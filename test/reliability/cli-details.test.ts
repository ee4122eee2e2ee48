// Command-line details a user hits: --set before the spec, --version, NO_COLOR, --quiet keeping the
// evaluations, a progress bar that fits a 60-column terminal (and a long evaluation's progress), a
// backend whose optional package was never installed. (Mistyped flags are in bad-input.test.ts.)
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeBackend } from "../../runtime/backend/select.js";
import { tempFiles } from "../helpers/project.js";
import { PROJECT_ROOT, runCli, runInTerminal } from "./cli.js";

const sets = (...s: string[]): string[] => s.flatMap((x) => ["--set", x]);

describe("the command line", () => {
  it.concurrent("takes --set before the spec (one value per --set, repeatable)", async () => {
    const dir = tempFiles({});
    const r = await runCli(["train", ...sets("training.eval_iters=1", "training.batch_size=4"), "specs/01-bigram.yaml", "--iters", "2", "--out", join(dir, "run"), "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "run/spec.resolved.yaml"), "utf8")).toMatch(/batch_size: 4\n/);
  });

  it.concurrent("prints its version", async () => {
    const r = await runCli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${(JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string }).version}\n`);
  });

  it.concurrent("keeps the evaluation lines under --quiet (only the bar goes)", async () => {
    const dir = tempFiles({});
    const r = await runCli(["train", "specs/01-bigram.yaml", ...sets("training.eval_interval=10", "training.eval_iters=1"), "--iters", "30", "--out", join(dir, "run"), "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    for (const step of [0, 10, 20, 30]) expect(r.stderr).toMatch(new RegExp(`^step ${step}: train loss \\d+\\.\\d{4}, val loss \\d+\\.\\d{4}$`, "m"));
    expect(r.stderr).not.toContain("ETA");
  });

  it.concurrent("says a backend whose optional package was never installed is not installed", async () => {
    const dir = tempFiles({});
    let installed = true;
    try {
      createRequire(join(PROJECT_ROOT, "package.json")).resolve("@tensorflow/tfjs-node");
    } catch {
      installed = false;
    }
    const r = await runCli(["train", "specs/01-bigram.yaml", "--backend", "tensorflow", "--iters", "1", "--set", "training.eval_iters=1", "--out", join(dir, "run"), "--quiet"]);
    if (installed) {
      expect(r.code, r.stderr).toBe(0);
    } else {
      expect(r.code).toBe(2);
      expect(r.stderr.trimEnd().split("\n").at(-1)).toBe("error: backend tensorflow is not available here: not installed (an optional dependency whose install downloads TensorFlow)");
    }
  });

  it("logs why auto passed over each faster backend", () => {
    const line = describeBackend({ name: "wasm", tfjsName: "wasm", description: "wasm", skipped: ["native: the native addon is not built (build/babygpt_native.node is missing)", "tensorflow-gpu: not installed (an optional dependency whose install downloads TensorFlow)"] });
    expect(line).toBe("wasm (skipped native: the native addon is not built (build/babygpt_native.node is missing); tensorflow-gpu: not installed (an optional dependency whose install downloads TensorFlow))");
  });
});

describe("in a terminal", () => {
  const strip = (s: string): string => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");

  it.concurrent("fits the progress bars to a 60-column terminal, and shows a long evaluation's progress", async () => {
    const dir = tempFiles({});
    const t = await runInTerminal(`node bin/babygpt.mjs train specs/01-bigram.yaml --set training.eval_iters=2000 --set training.eval_interval=5000 --iters 5000 --out ${join(dir, "run")}`, { columns: 60 });
    expect(t.code, t.output).toBe(0);
    // every redraw starts with \r and clears the line; a bar wider than the terminal would wrap
    const redraws = t.output.split("\r\x1b[2K").map((s) => strip(s.split(/\r?\n/)[0]!)).filter((s) => s.includes("ETA"));
    expect(redraws.some((s) => s.startsWith("train █"))).toBe(true);
    expect(redraws.some((s) => s.startsWith("eval@0 "))).toBe(true);
    for (const s of redraws) expect(Array.from(s).length, s).toBeLessThanOrEqual(59);
  });

  it.concurrent("colors diff on a terminal, and not with NO_COLOR set", async () => {
    const diff = "node bin/babygpt.mjs diff specs/08-residual.yaml specs/09-layernorm.yaml";
    const plain = await runInTerminal(diff, { env: { NO_COLOR: "1", FORCE_COLOR: undefined } });
    const colored = await runInTerminal(diff, { env: { FORCE_COLOR: undefined } });
    expect(colored.code).toBe(0);
    expect(plain.code).toBe(0);
    expect(colored.output).toContain("\x1b[32m+");
    expect(plain.output).not.toContain("\x1b[");
    expect(plain.output).toContain("+import");
  });
});

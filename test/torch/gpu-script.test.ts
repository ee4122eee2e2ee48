// bench/gpu-torch.sh, the prepared GPU run of the lecture GPT, on its CPU path with a tiny budget: it
// trains through the torch engine, prints the exact val loss and the minutes, and writes its result file.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readMetrics } from "../../runtime/train/metrics.js";
import { PROJECT_ROOT, tempFiles, useSharedData } from "../helpers/project.js";
import { torchUnavailable } from "../helpers/torch.js";
import { tinySpec } from "./tiny.js";

describe.skipIf(torchUnavailable() !== undefined)("bench/gpu-torch.sh", () => {
  it("trains on the CPU path and prints the exact val loss and the minutes", () => {
    const dir = tempFiles({});
    const env = { ...process.env, BABYGPT_DATA_DIR: useSharedData(), DEVICE: "cpu", ITERS: "10", SPEC: tinySpec(), OUT: join(dir, "run"), RESULT: join(dir, "result.json") };
    const stdout = execFileSync("bash", ["bench/gpu-torch.sh", "--quiet"], { cwd: PROJECT_ROOT, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const [loss, minutes] = stdout.trim().split("\n").slice(-2);
    const exact = readMetrics(join(dir, "run")).find((r) => r.type === "exact")!;
    expect(loss).toBe(`exact val loss: ${exact.val_loss!.toFixed(4)}`);
    expect(minutes).toMatch(/^minutes: \d+\.\d$/);
    const result = JSON.parse(readFileSync(join(dir, "result.json"), "utf8")) as Record<string, unknown>;
    expect(result).toMatchObject({ iterations: 10, worldSize: 1, exactValLoss: exact.val_loss, precision: "fp32" });
    expect(result["command"]).toContain("DEVICE=cpu NPROC=1 ITERS=10 bash bench/gpu-torch.sh --quiet");
  });
});

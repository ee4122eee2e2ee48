// `--backend auto` asks a process of its own whether the WebGPU adapter is a GPU (probe.mjs). `train`
// starts that probe before it opens the spec and the data and waits for it only when it chooses the
// backend: until then the probe must not keep the command alive (a command that fails first exits at
// once), and one probe answers every question of the process.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../helpers/project.js";

describe("the WebGPU probe", () => {
  it("holds the process only while probeAdapter waits for it, and answers once per process", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "test/webgpu/fixtures/probe-hold.ts")], { cwd: PROJECT_ROOT, encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { before: number; started: number; held: number; answer: string; again: string };
    expect(got.started).toBe(got.before);
    expect(got.held).toBe(got.before + 1);
    expect(got.answer.length).toBeGreaterThan(0);
    expect(got.again).toBe(got.answer);
  });
});

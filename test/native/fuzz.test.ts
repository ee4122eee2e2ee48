// Random calls of the native bindings (test/native/fuzz-bindings.ts: random shapes, zero-size ones
// included; operands that do not fit; sizes no array can have), in a child process so that a crash or a
// hang fails this test instead of taking the test runner down. Each call must throw a clean Error or
// give what plain tf ops give on the cpu backend. More cases, other seeds:
//   node --import tsx test/native/fuzz-bindings.ts --seed 7 --cases 20000
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../helpers/project.js";
import { nativeUnavailable } from "../helpers/native.js";

const skipReason = nativeUnavailable();

describe.skipIf(skipReason)(`native bindings under fuzzing${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  it("every random call gives the tf reference's answer or a clean error, and nothing crashes or hangs", () => {
    const child = spawnSync(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "test/native/fuzz-bindings.ts"), "--seed", "20261125", "--cases", "600"], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
      timeout: 120_000,
      maxBuffer: 16 * 2 ** 20,
    });
    const lastCase = (child.stderr ?? "").trim().split("\n").filter((l) => l.startsWith("case ")).at(-1);
    // A signal (SIGSEGV, SIGABRT, or SIGTERM from the timeout) means the case on the last line did it.
    expect(child.signal, `the fuzzer died (${child.signal}) during ${lastCase}`).toBeNull();
    const summary = JSON.parse((child.stdout ?? "").trim().split("\n").at(-1) || "{}") as { blas?: string; failures?: string[]; compared?: number; misfit?: number };
    // The child loaded the build this run is about (BABYGPT_NATIVE_ADDON travels in the environment).
    if ((process.env["BABYGPT_NATIVE_ADDON"] ?? "").includes("builtin")) expect(summary.blas).toMatch(/^built-in GEMM/);
    expect(summary.failures, child.stderr.slice(-2000)).toEqual([]);
    expect(child.status).toBe(0);
    // The run did what it says: most fitting calls were compared, and the misfits were tried.
    expect(summary.compared).toBeGreaterThan(300);
    expect(summary.misfit).toBeGreaterThan(100);
  });
});

// The golden outputs type-check: all of generated/ (and the rest of the project) under the project's
// strict tsconfig, with tsc --noEmit.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../helpers/project.js";

describe("type checking", () => {
  it("tsc --noEmit passes on the project, generated/ included", () => {
    const tsc = join(PROJECT_ROOT, "node_modules/typescript/bin/tsc");
    let output = "";
    try {
      execFileSync(process.execPath, [tsc, "--noEmit", "-p", join(PROJECT_ROOT, "tsconfig.json")], { cwd: PROJECT_ROOT, encoding: "utf8" });
    } catch (e) {
      output = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(output).toBe("");
  });
});

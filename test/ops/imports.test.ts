// The layering the op layer rests on: the model code (generated/, runtime/nn) and the ops (runtime/ops)
// import no backend, so that a backend plugs in by registering kernels, and every backend runs the same
// model code. Imports are read with TypeScript's own pre-processor (import and export declarations).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../helpers/project.js";

/** The project files and packages a file imports, project files relative to the root. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  return importedFiles.map(({ fileName }) => (fileName.startsWith(".") ? relative(PROJECT_ROOT, resolve(dirname(file), fileName)) : fileName));
}

const BACKENDS = [/^runtime\/native\//, /^runtime\/backend\//, /^runtime\/webgpu\//, /^@tensorflow\/tfjs-(backend|node)/];

describe("imports", () => {
  for (const dir of ["generated", "runtime/nn", "runtime/ops"]) {
    it(`${dir}/ imports no backend`, () => {
      const files = readdirSync(join(PROJECT_ROOT, dir)).filter((f) => f.endsWith(".ts"));
      expect(files.length).toBeGreaterThan(0);
      const bad = files.flatMap((f) => importsOf(join(PROJECT_ROOT, dir, f)).filter((i) => BACKENDS.some((b) => b.test(i))).map((i) => `${dir}/${f} imports ${i}`));
      expect(bad).toEqual([]);
    });
  }

  it("sees a backend import where there is one", () => {
    expect(importsOf(join(PROJECT_ROOT, "runtime/native/fused.ts"))).toContain("runtime/ops/index.js");
    expect(importsOf(join(PROJECT_ROOT, "runtime/native/backend.ts"))).toContain("@tensorflow/tfjs-backend-cpu");
  });
});

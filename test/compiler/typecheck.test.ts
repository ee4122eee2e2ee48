// The golden outputs type-check: all of generated/ (and the rest of the project) under the project's
// strict tsconfig, with tsc --noEmit; and generated/ alone with noUnusedLocals and noUnusedParameters
// as well, so that an import, a field or a helper the code does not use fails the test (the code read is
// the code that runs).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
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

  it("generated/ has no unused imports, locals or parameters (noUnusedLocals, noUnusedParameters)", () => {
    const dir = join(PROJECT_ROOT, "generated");
    const files = readdirSync(dir)
      .filter((f) => f.endsWith(".ts"))
      .map((f) => join(dir, f));
    // A copy of one golden with an import it does not use, which the check must flag.
    const probe = join(dir, "unused-import-probe.ts");
    const baby = readFileSync(join(dir, "12-baby-gpt.ts"), "utf8");
    const probeText = baby.replace("import { Embedding,", "import { dropout, Embedding,");
    expect(probeText).not.toBe(baby);

    const config = ts.readConfigFile(join(PROJECT_ROOT, "tsconfig.json"), (p) => ts.sys.readFile(p));
    const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, PROJECT_ROOT);
    const strict = { ...options, noUnusedLocals: true, noUnusedParameters: true };
    const host = ts.createCompilerHost(strict);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, version, onError, create) => (name === probe ? ts.createSourceFile(name, probeText, version) : getSourceFile(name, version, onError, create));
    const program = ts.createProgram([...files, probe], strict, host);
    const problems = (file: string): string[] =>
      ts
        .getPreEmitDiagnostics(program, program.getSourceFile(file))
        .filter((d) => d.file?.fileName === file)
        .map((d) => `${file.slice(PROJECT_ROOT.length + 1)}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`);

    expect(files.flatMap(problems)).toEqual([]);
    expect(problems(probe).join("\n")).toMatch(/'dropout' is declared but its value is never read/);
  });
});

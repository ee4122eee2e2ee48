// What every start of the CLI loads, whatever the subcommand: the modules runtime/cli/main.ts reaches
// through static imports. The heavy packages (TensorFlow.js, ts-morph and the TypeScript compiler under it,
// the native addon, Dawn) belong to the commands that use them, which import them inside their actions, so
// that `--help`, a mistyped flag or `inspect` does not pay for them. Read with TypeScript's parser: import
// and export declarations that carry values (not `import type`), never `import()` expressions.
import { existsSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../helpers/project.js";

/** The modules a file loads when it is loaded: project files relative to the root, packages by name. */
function staticImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: string[] = [];
  for (const s of source.statements) {
    let spec: ts.Expression | undefined;
    if (ts.isImportDeclaration(s)) {
      const clause = s.importClause;
      const typeOnly = clause !== undefined && (clause.isTypeOnly || (clause.name === undefined && clause.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly) spec = s.moduleSpecifier;
    } else if (ts.isExportDeclaration(s) && s.moduleSpecifier && !s.isTypeOnly) {
      const only = s.exportClause && ts.isNamedExports(s.exportClause) && s.exportClause.elements.length > 0 && s.exportClause.elements.every((e) => e.isTypeOnly);
      if (!only) spec = s.moduleSpecifier;
    }
    if (spec === undefined || !ts.isStringLiteral(spec)) continue;
    const name = spec.text;
    if (!name.startsWith(".")) out.push(name);
    else out.push(relative(PROJECT_ROOT, resolve(dirname(file), name.replace(/\.js$/, ".ts"))));
  }
  return out;
}

/** Every module `entry` (a project file) loads, itself included. */
function loadedBy(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const m = todo.pop()!;
    if (seen.has(m)) continue;
    seen.add(m);
    const file = resolve(PROJECT_ROOT, m);
    if (!m.startsWith("node:") && existsSync(file) && m.endsWith(".ts")) todo.push(...staticImports(file));
  }
  return seen;
}

const HEAVY = [/^@tensorflow\//, /^ts-morph$/, /^typescript$/, /^webgpu$/, /^runtime\/native\//, /^runtime\/webgpu\//, /^runtime\/nn\//];

describe("the CLI's start", () => {
  it("loads none of the heavy packages before a command runs", () => {
    const loaded = [...loadedBy("runtime/cli/main.ts")];
    // the walk reached the commands' own files
    expect(loaded).toContain("runtime/cli/commands/train.ts");
    expect(loaded).toContain("commander");
    expect(loaded.filter((m) => HEAVY.some((h) => h.test(m))).sort()).toEqual([]);
  });

  it("sees the heavy packages where a command's work loads them", () => {
    const trainer = loadedBy("runtime/train/trainer.ts");
    expect(trainer.has("@tensorflow/tfjs")).toBe(true);
    expect(loadedBy("compiler/compile.ts").has("ts-morph")).toBe(true);
  });
});

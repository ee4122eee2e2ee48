// The import graph of compiler/, runtime/ and bench/, read with TypeScript's own parser: no cycles (type-only
// imports and dynamic import() included), and the compiler, the lower layer, imports nothing of the
// runtime, the benchmark or the playground.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../helpers/project.js";

const FOLDERS = ["compiler", "runtime", "bench", "util", "kit", "playground/src"];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "node_modules" ? [] : sources(path);
    return /\.m?ts$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

const files = FOLDERS.flatMap((f) => sources(join(PROJECT_ROOT, f)));
const known = new Set(files);

/** The project files a file imports (static, type-only, re-exports and literal dynamic imports). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith("."))
    .map((spec) => resolve(dirname(file), spec).replace(/\.m?js$/, ".ts"))
    .filter((p) => known.has(p));
}

const graph = new Map(files.map((f) => [f, importsOf(f)]));
const rel = (f: string): string => relative(PROJECT_ROOT, f);

/** Strongly connected components of two or more files (Tarjan). */
function cycles(): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(rel(w));
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return out;
}

describe("the import graph", () => {
  it("reads the imports of every file", () => {
    expect(files.length).toBeGreaterThan(150);
    expect(graph.get(join(PROJECT_ROOT, "compiler/emit.ts"))?.map(rel)).toContain("compiler/tree/build.ts");
  });

  it("has no cycles, type-only imports included", () => {
    expect(cycles()).toEqual([]);
  });

  it("keeps the compiler below the runtime: compiler/ imports nothing but itself and util/", () => {
    const up = [...graph].flatMap(([f, deps]) => (rel(f).startsWith("compiler/") ? deps.filter((d) => !/^(compiler|util)\//.test(rel(d))).map((d) => `${rel(f)} → ${rel(d)}`) : []));
    expect(up).toEqual([]);
  });

  it("keeps util/ at the bottom: it imports nothing of the project", () => {
    const up = [...graph].flatMap(([f, deps]) => (rel(f).startsWith("util/") ? deps.filter((d) => !rel(d).startsWith("util/")).map((d) => `${rel(f)} → ${rel(d)}`) : []));
    expect(up).toEqual([]);
  });

  it("has the runtime, the benchmark and the kit use the compiler through its public entries alone", () => {
    const entries = new Set(["compiler/index.ts", "compiler/emit.ts", "compiler/compile.ts", "compiler/targets.ts", "compiler/fingerprint.ts"]);
    const inside = [...graph].flatMap(([f, deps]) =>
      rel(f).startsWith("compiler/") ? [] : deps.filter((d) => rel(d).startsWith("compiler/") && !entries.has(rel(d))).map((d) => `${rel(f)} → ${rel(d)}`),
    );
    expect(inside).toEqual([]);
  });

  it("keeps the CLI's presentation out of the lower rooms: only runtime/cli imports runtime/cli", () => {
    const up = [...graph].flatMap(([f, deps]) => (rel(f).startsWith("runtime/cli/") ? [] : deps.filter((d) => rel(d).startsWith("runtime/cli/")).map((d) => `${rel(f)} → ${rel(d)}`)));
    expect(up).toEqual([]);
  });

  it("finds a cycle where there is one (the check can fail)", () => {
    const a = join(PROJECT_ROOT, "compiler/emit.ts");
    const b = join(PROJECT_ROOT, "compiler/tree/build.ts");
    const saved = graph.get(b)!;
    graph.set(b, [...saved, a]);
    try {
      expect(cycles().some((c) => c.includes("compiler/emit.ts"))).toBe(true);
    } finally {
      graph.set(b, saved);
    }
  });
});

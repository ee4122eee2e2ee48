// `babygpt compile`: specs → generated/*.ts (+ generated/index.ts) and the PyTorch modules
// generated/torch/*.py. In check mode nothing is written and every file whose content would change is
// listed, so CI can fail on drift.
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { SpecError } from "./diagnostics/diagnostic.js";
import { emitTorchModule } from "./emit-torch/locate.js";
import { emitIndexFile, type IndexEntry } from "./emit/index-file.js";
import { emitModelFile, type EmitOptions } from "./emit/model-file.js";
import type { ModelIR } from "./ir/model.js";
import { lowerSpec } from "./ir/lower.js";
import { loadSpec, type LoadOptions } from "./spec/load.js";
import { writeFileAtomic } from "./write-atomic.js";

export interface CompiledSpec {
  readonly ir: ModelIR;
  readonly specPath: string;
  /** Where the generated file belongs, and its content. */
  readonly outFile: string;
  readonly text: string;
}

export interface Project {
  readonly root: string;
  readonly specsDir: string;
  readonly generatedDir: string;
}

export function projectAt(root: string): Project {
  return { root, specsDir: join(root, "specs"), generatedDir: join(root, "generated") };
}

/** What `compile` emits: TypeScript for the tfjs runtime, PyTorch for the torch engine. */
export const TARGETS = ["typescript", "pytorch"] as const;
export type Target = (typeof TARGETS)[number];

/** The PyTorch module's name for a spec: generated/torch/<spec file name>.py */
export function torchPathFor(project: Project, specPath: string): string {
  return join(project.generatedDir, "torch", `${basename(specPath).replace(/\.ya?ml$/, "")}.py`);
}

/** The generated file's name for a spec: generated/<spec file name>.ts */
export function generatedPathFor(project: Project, specPath: string): string {
  return join(project.generatedDir, `${basename(specPath).replace(/\.ya?ml$/, "")}.ts`);
}

export function compileSpec(project: Project, specPath: string, load: LoadOptions = {}, emit: EmitOptions = {}): CompiledSpec {
  const ir = lowerSpec(loadSpec(specPath, { cwd: project.root, ...load }));
  return { ir, specPath, outFile: generatedPathFor(project, resolve(project.root, specPath)), text: emitModelFile(ir, emit) };
}

/** The PyTorch module for a spec (generated/torch/<spec>.py). */
export function compileTorchSpec(project: Project, specPath: string, load: LoadOptions = {}): CompiledSpec {
  const loaded = loadSpec(specPath, { cwd: project.root, ...load });
  const ir = lowerSpec(loaded);
  return { ir, specPath, outFile: torchPathFor(project, resolve(project.root, specPath)), text: emitTorchModule(ir, loaded) };
}

export function listSpecs(project: Project): string[] {
  if (!existsSync(project.specsDir)) return [];
  return readdirSync(project.specsDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join("specs", f));
}

export interface CompileResult {
  readonly written: readonly string[];
  readonly unchanged: readonly string[];
  /** In check mode: files whose content differs from what the specs produce (or that are missing). */
  readonly stale: readonly string[];
}

/** Compiles the given specs (default: all of specs/) for the given targets (default: both) and regenerates the index. */
export function compileAll(project: Project, specPaths: readonly string[] | undefined, check: boolean, targets: readonly Target[] = TARGETS): CompileResult {
  const paths = specPaths && specPaths.length > 0 ? specPaths : listSpecs(project);
  const diagnostics: SpecError[] = [];
  const outputs: CompiledSpec[] = [];
  const torchOutputs: CompiledSpec[] = [];
  for (const p of paths) {
    try {
      if (targets.includes("typescript")) outputs.push(compileSpec(project, p));
      if (targets.includes("pytorch")) torchOutputs.push(compileTorchSpec(project, p));
    } catch (e) {
      if (e instanceof SpecError) diagnostics.push(e);
      else throw e;
    }
  }
  if (diagnostics.length > 0) throw new SpecError(diagnostics.flatMap((d) => d.diagnostics));
  checkUniqueNames(targets.includes("typescript") ? outputs : torchOutputs);

  const files = new Map<string, string>([...outputs, ...torchOutputs].map((o) => [o.outFile, o.text]));
  if (targets.includes("typescript")) files.set(join(project.generatedDir, "index.ts"), emitIndexFile(indexEntries(project, outputs)));

  const written: string[] = [];
  const unchanged: string[] = [];
  const stale: string[] = [];
  for (const [file, text] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const current = existsSync(file) ? readFileSync(file, "utf8") : undefined;
    if (current === text) unchanged.push(file);
    else if (check) stale.push(file);
    else {
      mkdirSync(dirname(file), { recursive: true });
      writeFileAtomic(file, text);
      written.push(file);
    }
  }
  return { written, unchanged, stale };
}

function checkUniqueNames(outputs: readonly CompiledSpec[]): void {
  const byName = new Map<string, string>();
  for (const o of outputs) {
    const other = byName.get(o.ir.name);
    if (other) throw new SpecError([{ loc: { kind: "cli", arg: o.ir.files[0]!.path }, message: `spec name "${o.ir.name}" is already used by ${other}` }]);
    byName.set(o.ir.name, o.ir.files[0]!.path);
  }
}

/** The index lists every generated model: those just compiled, and those already in generated/. */
function indexEntries(project: Project, outputs: readonly CompiledSpec[]): IndexEntry[] {
  const entries = new Map<string, IndexEntry>();
  if (existsSync(project.generatedDir)) {
    for (const f of readdirSync(project.generatedDir).filter((f) => f.endsWith(".ts") && f !== "index.ts")) {
      const name = /^\s*name: "([^"]+)",/m.exec(readFileSync(join(project.generatedDir, f), "utf8"))?.[1];
      if (name) entries.set(f, { name, file: f.replace(/\.ts$/, "") });
    }
  }
  for (const o of outputs) entries.set(basename(o.outFile), { name: o.ir.name, file: basename(o.outFile).replace(/\.ts$/, "") });
  return [...entries.values()];
}

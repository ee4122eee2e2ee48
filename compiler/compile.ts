// `babygpt compile`: specs → generated/*.ts (+ generated/index.ts) and the PyTorch modules
// generated/torch/*.py. In check mode nothing is written and every file whose content would change is
// listed, so CI can fail on drift.
//
// generated/ holds the code of the specs in specs/ and specs/zoo/ (in generated/zoo/ and
// generated/torch/zoo/) and nothing else: a spec from anywhere else compiles to files beside it
// (<name>.ts, <name>.py; or to --out), is not listed in the index, and never replaces the generated file
// of a spec in specs/ that has the same file name.
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { SpecError, type Diagnostic } from "./diagnostics/diagnostic.js";
import { emitPython, emitTypeScript, type EmitOptions } from "./emit.js";
import { emitIndexFile, type IndexEntry } from "./serialize/typescript/index-file.js";
import type { ModelIR } from "./ir/model.js";
import { lowerSpec } from "./ir/lower.js";
import { loadSpec, type LoadOptions } from "./spec/load.js";
import { TARGETS, type Target } from "./targets.js";
import { writeFileAtomic } from "../util/write-atomic.js";
import { GENERATED_FOLDERS, generatedPathFor, hasCommittedCode, runtimeImportFrom, torchPathFor, type Project } from "./project.js";

export { generatedPathFor, hasCommittedCode, projectAt, runtimeImportFrom, torchPathFor, type Project } from "./project.js";

export interface CompiledSpec {
  readonly ir: ModelIR;
  readonly specPath: string;
  /** Where the generated file belongs, and its content. */
  readonly outFile: string;
  readonly text: string;
}

export function compileSpec(project: Project, specPath: string, load: LoadOptions = {}, emit: EmitOptions = {}): CompiledSpec {
  const ir = lowerSpec(loadSpec(specPath, { cwd: project.root, ...load }));
  const outFile = generatedPathFor(project, resolve(project.root, specPath));
  // generated/zoo/ is a folder deeper than generated/: its files reach runtime/nn through one more "..".
  return { ir, specPath, outFile, text: emitTypeScript(ir, { runtimeImport: runtimeImportFrom(project, outFile), ...emit }) };
}

/** The PyTorch module for a spec (generated/torch/<spec>.py). */
export function compileTorchSpec(project: Project, specPath: string, load: LoadOptions = {}): CompiledSpec {
  const loaded = loadSpec(specPath, { cwd: project.root, ...load });
  const ir = lowerSpec(loaded);
  return { ir, specPath, outFile: torchPathFor(project, resolve(project.root, specPath)), text: emitPython(ir) };
}

/** The spec files of a folder, sorted, as paths relative to the project root. */
function yamlIn(project: Project, dir: string): string[] {
  if (!existsSync(dir)) return [];
  const rel = relative(project.root, dir).split(sep).join("/");
  return readdirSync(dir, { withFileTypes: true })
    .filter((f) => f.isFile() && /\.ya?ml$/.test(f.name))
    .map((f) => `${rel}/${f.name}`)
    .sort();
}

/** The ladder: specs/*.yaml, in order. */
export function listSpecs(project: Project): string[] {
  return yamlIn(project, project.specsDir);
}

/** The zoo: specs/zoo/*.yaml (not its subfolders, which hold what the specs extend). */
export function listZoo(project: Project): string[] {
  return yamlIn(project, project.zooDir);
}

/** Every spec with committed code in generated/: the ladder's, then the zoo's. */
export function listCompiled(project: Project): string[] {
  return [...listSpecs(project), ...listZoo(project)];
}

export interface CompileOptions {
  /**
   * Where the one spec given compiles to, instead of its usual place: the TypeScript file, with the
   * PyTorch module beside it as <name>.py (or the PyTorch module itself when that is the only target).
   */
  readonly out?: string | undefined;
  /** Called before a file outside generated/ is written (not in check mode); throws to refuse it. */
  readonly guard?: (file: string) => void;
}

export interface CompileResult {
  readonly written: readonly string[];
  readonly unchanged: readonly string[];
  /** In check mode: files whose content differs from what the specs produce (or that are missing). */
  readonly stale: readonly string[];
  /** What the specs compiled say trains badly by construction (each spec's once). */
  readonly warnings: readonly Diagnostic[];
}

type Placed = CompiledSpec & { readonly generated: boolean };

/** A folder with its links resolved; the path as given when it does not exist. */
function real(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/** Where a write to `path` lands: its folder's links resolved. */
const landing = (path: string): string => join(real(dirname(path)), basename(path));

/** Where a spec's target file goes outside generated/: `out`, or beside the spec with the target's extension. */
function placeOutside(project: Project, specPath: string, out: string | undefined, ext: ".ts" | ".py"): string {
  const abs = resolve(project.root, specPath);
  const outFile = out !== undefined ? resolve(out) : join(dirname(abs), `${basename(abs).replace(/\.ya?ml$/, "")}${ext}`);
  const arg = out !== undefined ? `--out ${out}` : specPath;
  // decided on where the file lands: a folder reached through a link is the folder it points at
  const lands = landing(outFile);
  const generated = GENERATED_FOLDERS.flatMap((f) => [join(project.generatedDir, f), join(project.generatedDir, "torch", f)]).flatMap((d) => [d, real(d)]);
  if (generated.includes(dirname(outFile)) || generated.includes(dirname(lands))) {
    const via = lands === outFile ? "" : ` (through a link: it lands at ${lands})`;
    throw new SpecError([{ loc: { kind: "cli", arg }, message: `${outFile} would be in generated/${via}, which holds only the code of the specs in specs/ and specs/zoo/; compile it elsewhere with --out` }]);
  }
  if (outFile === abs || landing(outFile) === landing(abs)) throw new SpecError([{ loc: { kind: "cli", arg }, message: "the output would replace the spec itself; choose another --out" }]);
  return outFile;
}

/** Where a spec compiles to and with which runtime import: generated/ for specs/, beside the spec (or `out`) otherwise. */
function compileOne(project: Project, specPath: string, out: string | undefined): Placed {
  if (out === undefined && hasCommittedCode(project, specPath)) return { ...compileSpec(project, specPath), generated: true };
  const outFile = placeOutside(project, specPath, out, ".ts");
  const compiled = compileSpec(project, specPath, {}, { runtimeImport: runtimeImportFrom(project, outFile) });
  return { ...compiled, outFile, generated: false };
}

/** The same for the PyTorch module (it imports only torch, so its place changes nothing in its text). */
function compileOneTorch(project: Project, specPath: string, out: string | undefined): Placed {
  if (out === undefined && hasCommittedCode(project, specPath)) return { ...compileTorchSpec(project, specPath), generated: true };
  return { ...compileTorchSpec(project, specPath), outFile: placeOutside(project, specPath, out, ".py"), generated: false };
}

/**
 * Compiles the given specs (default: all of specs/ and specs/zoo/) for the given targets (default: both). The index is
 * regenerated when a spec of specs/ was compiled to TypeScript; files outside generated/ pass
 * `options.guard` before they are written.
 */
export function compileAll(
  project: Project,
  specPaths: readonly string[] | undefined,
  check: boolean,
  targets: readonly Target[] = TARGETS,
  options: CompileOptions = {},
): CompileResult {
  const paths = specPaths && specPaths.length > 0 ? specPaths : listCompiled(project);
  const diagnostics: SpecError[] = [];
  const outputs: Placed[] = [];
  const torchOutputs: Placed[] = [];
  const both = targets.includes("typescript") && targets.includes("pytorch");
  for (const p of paths) {
    try {
      if (targets.includes("typescript")) outputs.push(compileOne(project, p, options.out));
      // With both targets, --out names the TypeScript file and the PyTorch module goes beside it.
      const torchOut = options.out !== undefined && both ? options.out.replace(/(\.[cm]?ts)?$/, ".py") : options.out;
      if (targets.includes("pytorch")) torchOutputs.push(compileOneTorch(project, p, torchOut));
    } catch (e) {
      if (e instanceof SpecError) diagnostics.push(e);
      else throw e;
    }
  }
  if (diagnostics.length > 0) throw new SpecError(diagnostics.flatMap((d) => d.diagnostics));
  const generated = outputs.filter((o) => o.generated);
  checkUniqueNames(targets.includes("typescript") ? generated : torchOutputs.filter((o) => o.generated));

  const all = [...outputs, ...torchOutputs];
  const files = new Map<string, string>(all.map((o) => [o.outFile, o.text]));
  if (generated.length > 0) files.set(join(project.generatedDir, "index.ts"), emitIndexFile(indexEntries(project, generated)));
  const outside = new Set(all.filter((o) => !o.generated).map((o) => o.outFile));
  if (!check) for (const f of outside) options.guard?.(f);

  const written: string[] = [];
  const unchanged: string[] = [];
  const stale: string[] = [];
  for (const [file, text] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const current = existsSync(file) ? readFileSync(file, "utf8") : undefined;
    if (current === text) unchanged.push(file);
    else if (check) stale.push(file);
    else {
      if (!outside.has(file)) mkdirSync(dirname(file), { recursive: true });
      writeFileAtomic(file, text);
      written.push(file);
    }
  }
  const warnings = [...new Map([...outputs, ...torchOutputs].flatMap((o) => o.ir.warnings.map((w) => [`${o.specPath}|${w.message}`, w] as const))).values()];
  return { written, unchanged, stale, warnings };
}

function checkUniqueNames(outputs: readonly CompiledSpec[]): void {
  const byName = new Map<string, string>();
  for (const o of outputs) {
    const other = byName.get(o.ir.name);
    if (other) throw new SpecError([{ loc: { kind: "cli", arg: o.ir.files[0]!.path }, message: `spec name "${o.ir.name}" is already used by ${other}` }]);
    byName.set(o.ir.name, o.ir.files[0]!.path);
  }
}

/** The index lists every generated model: those just compiled, and those already in generated/ and generated/zoo/. */
function indexEntries(project: Project, outputs: readonly CompiledSpec[]): IndexEntry[] {
  const entries = new Map<string, IndexEntry>();
  /** The file's path in generated/, without extension, '/'-separated: 04-single-head, zoo/gpt2. */
  const key = (file: string): string => relative(project.generatedDir, file).split(sep).join("/").replace(/\.ts$/, "");
  for (const folder of GENERATED_FOLDERS) {
    const dir = join(project.generatedDir, folder);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((f) => f.endsWith(".ts") && f !== "index.ts")) {
      const name = /^\s*name: "([^"]+)",/m.exec(readFileSync(join(dir, f), "utf8"))?.[1];
      if (name) entries.set(key(join(dir, f)), { name, file: key(join(dir, f)) });
    }
  }
  for (const o of outputs) entries.set(key(o.outFile), { name: o.ir.name, file: key(o.outFile) });
  return [...entries.values()];
}

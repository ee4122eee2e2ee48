// Getting the model class for a spec: the committed generated file when it matches the spec, else the
// freshly emitted code. `train` compiles a missing or stale generated file first (and says so), and code
// for a spec changed by --set, or a spec outside specs/, is emitted to a cache file of its own, so
// generated/ only ever holds what the files in specs/ say.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { generatedPathFor, projectAt } from "../compiler/compile.js";
import { emitModelFile } from "../compiler/emit/model-file.js";
import type { ModelIR } from "../compiler/ir/model.js";
import { lowerSpec, sha256 } from "../compiler/ir/lower.js";
import { loadSpec, type LoadedSpec } from "../compiler/spec/load.js";
import { writeFileAtomic } from "../compiler/write-atomic.js";
import { UserError } from "./errors.js";
import type { LanguageModel, ModelOptions } from "./nn/language-model.js";
import { PROJECT_ROOT } from "./paths.js";

export interface ModelModule {
  readonly createModel: (options: ModelOptions) => LanguageModel;
  readonly meta: { readonly name: string; readonly spec: string; readonly specSha256: string; readonly modelHash: string };
  readonly config: { readonly blockSize: number };
}

export interface ResolvedModel {
  readonly module: ModelModule;
  readonly ir: ModelIR;
  /** The emitted source (with imports relative to generated/), kept in the run directory as a record. */
  readonly source: string;
  /** Where the class was imported from. */
  readonly from: string;
  /** What `train` did to get it, for the log. */
  readonly note?: string;
}

const RUNTIME_URL = pathToFileURL(join(PROJECT_ROOT, "runtime/nn/index.ts")).href;

/** Imports emitted model code from a content-addressed file in the temp directory. */
export async function importSource(source: string): Promise<ModelModule> {
  const dir = join(tmpdir(), "babygpt-models");
  // .mts: the temp directory has no package.json saying "type": "module", and this code is ESM.
  const file = join(dir, `${sha256(source).slice(0, 24)}.mts`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(file, source);
  }
  return (await import(pathToFileURL(file).href)) as ModelModule;
}

/** `specPath` absolute; `loaded` is that spec loaded with paths relative to the project root. */
export async function resolveModel(specPath: string, loaded: LoadedSpec, options: { compile: boolean; sets: readonly string[] }): Promise<ResolvedModel> {
  const project = projectAt(PROJECT_ROOT);
  const ir = lowerSpec(loaded);
  const source = emitModelFile(ir);
  const plain = options.sets.length > 0 ? emitModelFile(lowerSpec(loadSpec(specPath, { cwd: PROJECT_ROOT }))) : source;
  if (plain !== source) {
    // --set changed the architecture: the spec file's generated code does not describe this model.
    const module = await importSource(emitModelFile(ir, { runtimeImport: RUNTIME_URL }));
    return { module, ir, source, from: "code emitted for the --set overrides", note: "--set changes the model, so it trains code emitted for this run (kept as model.ts in the run directory)" };
  }
  const specFile = resolve(PROJECT_ROOT, loaded.files[0]!.path);
  if (dirname(specFile) !== project.specsDir) {
    // generated/ holds the code of specs/ alone: a spec from elsewhere must not add to it, nor overwrite
    // the generated file of a spec in specs/ that has the same file name.
    const module = await importSource(emitModelFile(ir, { runtimeImport: RUNTIME_URL }));
    return { module, ir, source, from: "code emitted for a spec outside specs/" };
  }
  const generated = generatedPathFor(project, specFile);
  const current = existsSync(generated) ? readFileSync(generated, "utf8") : undefined;
  let note: string | undefined;
  if (current !== source) {
    const state = current === undefined ? "missing" : "out of date";
    const shown = generated.startsWith(PROJECT_ROOT) ? generated.slice(PROJECT_ROOT.length + 1) : generated;
    if (!options.compile) throw new UserError(`${shown} is ${state}; run \`npx babygpt compile ${loaded.files[0]!.path}\` or drop --no-compile`);
    mkdirSync(project.generatedDir, { recursive: true });
    writeFileAtomic(generated, source);
    note = `compiled ${loaded.files[0]!.path} → ${shown} (it was ${state})`;
  }
  // The query busts Node's module cache when this process has imported an older version of the file.
  const module = (await import(`${pathToFileURL(generated).href}?v=${sha256(source).slice(0, 12)}`)) as ModelModule;
  return note === undefined ? { module, ir, source, from: generated } : { module, ir, source, from: generated, note };
}

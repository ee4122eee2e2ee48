// Getting the model class for a spec: the committed generated file when it matches the spec, else the
// freshly emitted code. Code for a spec whose generated file is missing or stale, changed by --set, or
// outside specs/ is emitted to a cache file of its own (and the first says so): generated/ is written by
// `babygpt compile` alone, and only ever holds what the files in specs/ say.
//
// That cache holds code this process will import and run, so it lives where only the user can write (the
// user's cache directory, never the shared temporary one), every folder on its path is checked to be
// the user's (or root's) and closed to others, and a file's content is checked against the sha256 in
// its name before it is imported.
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readFileSync, rmSync, type Stats } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { generatedPathFor, hasCommittedCode, loadSpec, lowerSpec, projectAt, runtimeImportFrom, type LoadedSpec, type ModelIR } from "../compiler/index.js";
import { emitterFingerprint } from "../compiler/fingerprint.js";
import { canonicalJson, sha256 } from "../util/hash.js";
import { writeFileAtomic } from "../util/write-atomic.js";
import { UserError } from "./errors.js";
import type { LanguageModel, ModelOptions } from "./nn/language-model.js";
import { PROJECT_ROOT } from "./paths.js";
import { ownedByUser, privateDir } from "./private-dir.js";

export interface ModelModule {
  readonly createModel: (options: ModelOptions) => LanguageModel;
  readonly meta: { readonly name: string; readonly spec: string; readonly specSha256: string; readonly modelHash: string };
  readonly config: { readonly blockSize: number };
}

export interface ResolvedModel {
  readonly module: ModelModule;
  readonly ir: ModelIR;
  /** The emitted source (with imports relative to generated/, or generated/zoo/ for the zoo), kept in the run directory as a record. */
  readonly source: string;
  /** Where the class was imported from. */
  readonly from: string;
  /** What `train` did to get it, for the log. */
  readonly note?: string;
}

const RUNTIME_URL = pathToFileURL(join(PROJECT_ROOT, "runtime/nn/index.ts")).href;

/** $XDG_CACHE_HOME/babygpt/models, or ~/.cache/babygpt/models. */
export function modelCacheDir(): string {
  return join(process.env["XDG_CACHE_HOME"] || join(homedir(), ".cache"), "babygpt", "models");
}

/** Creates the cache (0700) and checks that no one but the user can change it or any folder above it. */
const privateCacheDir = (): string => privateDir(modelCacheDir(), { name: "the model cache", because: "babygpt imports code from it only when no one else can change it" });

const digest = (text: string | Uint8Array): string => createHash("sha256").update(text).digest("hex");

/** `<hash>.mts` in the cache: what lstat found there, and whether it is the user's plain file whose bytes hash to its name. */
function cachedModule(dir: string, hash: string): { file: string; found: Stats | undefined; intact: boolean } {
  // .mts: the cache has no package.json saying "type": "module", and this code is ESM.
  const file = join(dir, `${hash}.mts`);
  let found: Stats | undefined;
  try {
    found = lstatSync(file);
  } catch {
    found = undefined;
  }
  return { file, found, intact: found !== undefined && found.isFile() && ownedByUser(found) && digest(readFileSync(file)) === hash };
}

/**
 * Imports emitted model code from a content-addressed file (<sha256>.mts) in the private cache. A file
 * whose bytes do not hash to its name is never imported: it is written again from `source`.
 */
export async function importSource(source: string): Promise<ModelModule> {
  const { file, found, intact } = cachedModule(privateCacheDir(), digest(source));
  if (!intact) {
    if (found !== undefined) rmSync(file, { recursive: true, force: true });
    writeFileAtomic(file, source);
  }
  return (await import(pathToFileURL(file).href)) as ModelModule;
}

/** The cached module `<hash>.mts` when the private cache holds it intact, else undefined. */
async function importCached(hash: string): Promise<ModelModule | undefined> {
  const { file, intact } = cachedModule(privateCacheDir(), hash);
  return intact ? ((await import(pathToFileURL(file).href)) as ModelModule) : undefined;
}

/**
 * The model the compiler emits for `ir` now, imported from the private cache, whatever generated/ holds:
 * what `sample`, `eval` and `babygpt parity` run (none of them writes a file of the project). Where this
 * emitter is on record as having emitted it before (verdictFile) and the cache holds that file intact,
 * the emitter is not loaded.
 */
export async function emittedModel(ir: ModelIR): Promise<ModelModule> {
  const verdict = verdictFile(ir, RUNTIME_URL);
  const known = verdict === undefined ? undefined : readVerdict(verdict);
  const cached = known === undefined ? undefined : await importCached(known);
  if (cached) return cached;
  const { emitTypeScript } = await import("../compiler/emit.js");
  const source = emitTypeScript(ir, { runtimeImport: RUNTIME_URL });
  if (verdict !== undefined) writeFileAtomic(verdict, sha256(source));
  return importSource(source);
}

/**
 * The model-cache file recording which sha256 the emitter of this fingerprint, under this Node, gives for
 * `ir` with `runtimeImport`, or undefined where the cache cannot be used (it is then only slower: the emitter runs).
 */
function verdictFile(ir: ModelIR, runtimeImport: string | undefined): string | undefined {
  let dir: string;
  try {
    dir = privateCacheDir();
  } catch (e) {
    if (e instanceof UserError) return undefined;
    throw e;
  }
  // Node's version too: the emitter's output is meant not to depend on it, and the record need not trust that.
  return join(dir, `${sha256(`${emitterFingerprint()}\0${process.version}\0${runtimeImport ?? ""}\0${canonicalJson(ir)}`)}.emitted`);
}

/** The sha256 a verdict file records, when it is the user's own plain file holding one. */
function readVerdict(file: string): string | undefined {
  try {
    const st = lstatSync(file);
    if (!st.isFile() || !ownedByUser(st) || st.size !== 64) return undefined;
    const hash = readFileSync(file, "utf8");
    return /^[0-9a-f]{64}$/.test(hash) ? hash : undefined;
  } catch {
    return undefined;
  }
}

/** `specPath` absolute; `loaded` is that spec loaded with paths relative to the project root. */
export async function resolveModel(specPath: string, loaded: LoadedSpec, options: { compile: boolean; sets: readonly string[] }): Promise<ResolvedModel> {
  // The emitter (ts-morph, and TypeScript under it) is loaded only when code must be emitted: not for a
  // command refused before it needs the model (a bad spec, corpus or flag), and not for a spec whose
  // generated file this emitter is on record as giving (verdictFile).
  const emitter = async (): Promise<typeof import("../compiler/emit.js").emitTypeScript> => (await import("../compiler/emit.js")).emitTypeScript;
  const project = projectAt(PROJECT_ROOT);
  const ir = lowerSpec(loaded);
  if (options.sets.length > 0) {
    const plainIr = lowerSpec(loadSpec(specPath, { cwd: PROJECT_ROOT }));
    // The same IR emits the same code; a different one may still (a --set the model does not read).
    if (canonicalJson(plainIr) !== canonicalJson(ir)) {
      const emitModelFile = await emitter();
      const source = emitModelFile(ir);
      if (emitModelFile(plainIr) !== source) {
        // --set changed the architecture: the spec file's generated code does not describe this model.
        const module = await emittedModel(ir);
        return { module, ir, source, from: "code emitted for the --set overrides", note: "--set changes the model, so it trains code emitted for this run (kept as model.ts in the run directory)" };
      }
    }
  }
  const specFile = resolve(PROJECT_ROOT, loaded.files[0]!.path);
  if (!hasCommittedCode(project, specFile)) {
    // generated/ holds the code of specs/ and specs/zoo/ alone: a spec from elsewhere must not add to it,
    // nor overwrite the generated file of a spec in specs/ that has the same file name.
    const module = await emittedModel(ir);
    return { module, ir, source: (await emitter())(ir), from: "code emitted for a spec outside specs/" };
  }
  const generated = generatedPathFor(project, specFile);
  // A file of generated/zoo/ reaches runtime/nn through one more "..": its text is that file's.
  const runtimeImport = dirname(generated) === project.generatedDir ? undefined : runtimeImportFrom(project, generated);
  const current = existsSync(generated) ? readFileSync(generated, "utf8") : undefined;
  const verdict = verdictFile(ir, runtimeImport);
  let text: string;
  if (current !== undefined && verdict !== undefined && readVerdict(verdict) === sha256(current)) {
    text = current;
  } else {
    const emitModelFile = await emitter();
    text = emitModelFile(ir, runtimeImport === undefined ? {} : { runtimeImport });
    if (verdict !== undefined) writeFileAtomic(verdict, sha256(text));
  }
  if (current !== text) {
    // generated/ is `babygpt compile`'s to write, and its goldens are committed: training a spec whose
    // generated file is stale runs freshly emitted code from the private cache and says so, leaving
    // generated/ as the checkout has it.
    const state = current === undefined ? "missing" : "out of date";
    const shown = generated.startsWith(PROJECT_ROOT) ? generated.slice(PROJECT_ROOT.length + 1) : generated;
    if (!options.compile) throw new UserError(`${shown} is ${state}; run \`npx babygpt compile ${loaded.files[0]!.path}\` or drop --no-compile`);
    const module = await emittedModel(ir);
    return { module, ir, source: text, from: "code emitted for this run", note: `${shown} is ${state}, so this run trains code emitted from ${loaded.files[0]!.path} (\`npx babygpt compile\` updates generated/)` };
  }
  // The query busts Node's module cache when this process has imported an older version of the file.
  const module = (await import(`${pathToFileURL(generated).href}?v=${sha256(text).slice(0, 12)}`)) as ModelModule;
  return { module, ir, source: text, from: generated };
}

// The GPU kit's model source, bundled in place of runtime/model-source.ts (kit/bundle.ts): the kit has no
// TypeScript at run time to import emitted code with, so it runs the models of its specs/ as they were
// compiled when the kit was built (generated/*.ts, bundled as JavaScript), found by the IR's model hash:
// the architecture a spec, a --set or a run's spec.resolved.yaml describes. A model no spec of the kit
// has (a --set that changes the architecture, a spec of your own) is refused in one line, with where it
// can run instead.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { lowerSpec, type LoadedSpec, type ModelIR } from "../compiler/index.js";
import { models } from "../generated/index.js";
import { UserError } from "../runtime/errors.js";
import type { ModelModule, ResolvedModel } from "../runtime/model-source.js";
import { PROJECT_ROOT } from "../runtime/paths.js";

export type { ModelModule, ResolvedModel } from "../runtime/model-source.js";

const PREBUILT: readonly ModelModule[] = Object.values(models);

const refuse = (what: string): UserError =>
  new UserError(`${what} is not among the models built into this kit (those of its specs/); the kit runs no compiler, so train it from a checkout of babygpt (npm ci) instead`);

/** The prebuilt module of a model: the one compiled from `specFile` when it has this model, else any with it. */
function prebuilt(modelHash: string, specFile?: string): ModelModule | undefined {
  const same = PREBUILT.filter((m) => m.meta.modelHash === modelHash);
  return same.find((m) => m.meta.spec === specFile) ?? same[0];
}

/** Where emitted code would be cached in a checkout; the kit caches none. */
export function modelCacheDir(): string {
  return join(PROJECT_ROOT, "generated");
}

/** Emitted model code → the prebuilt module with the model hash that code records in its `meta`. */
export async function importSource(source: string): Promise<ModelModule> {
  const hash = /\bmodelHash: "([0-9a-f]{64})"/.exec(source)?.[1];
  const module = hash === undefined ? undefined : prebuilt(hash);
  if (!module) throw refuse(hash === undefined ? "code without a model hash" : `the model with sha256 ${hash.slice(0, 12)}…`);
  return module;
}

/** The prebuilt module of the model `ir` describes (`babygpt parity` in the kit runs the models it was built with). */
export async function emittedModel(ir: ModelIR): Promise<ModelModule> {
  const module = prebuilt(ir.modelHash);
  if (!module) throw refuse(`the model ${ir.name} (sha256 ${ir.modelHash.slice(0, 12)}…)`);
  return module;
}

/** The prebuilt module for a loaded spec; the record of its source is the generated file it was built from. */
export async function resolveModel(specPath: string, loaded: LoadedSpec, options: { compile: boolean; sets: readonly string[] }): Promise<ResolvedModel> {
  const ir = lowerSpec(loaded);
  const module = prebuilt(ir.modelHash, loaded.files[0]?.path);
  if (!module) throw refuse(`the model of ${loaded.files[0]?.path ?? specPath}${options.sets.length ? ` with --set ${options.sets.join(" ")}` : ""}`);
  const file = join(PROJECT_ROOT, "generated", `${module.meta.spec.replace(/^specs\//, "").replace(/\.ya?ml$/, "")}.ts`);
  const source = existsSync(file) ? readFileSync(file, "utf8") : `// the kit's prebuilt ${module.meta.name} (model sha256 ${ir.modelHash})\n`;
  return { module, ir, source, from: `${file} (prebuilt in the kit)` };
}

// The spec a training runs, for both engines. A new run trains the file given (with --set). A resumed
// run trains its own recorded spec, spec.resolved.yaml, checked against the hash its meta.json holds
// (runtime/checkpoint/run-spec.ts), with the overrides it recorded and any new --set, which the next
// checkpoint records: a spec file edited since the run started is reported in one line and not used.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { loadSpec, lowerSpec, SpecError, type LoadedSpec } from "../../compiler/index.js";
import { canonicalJson } from "../../util/hash.js";
import type { Checkpoint } from "../checkpoint/checkpoint.js";
import { checkedRunSpec } from "../checkpoint/run-spec.js";
import { UserError } from "../errors.js";
import { PROJECT_ROOT } from "../paths.js";

export interface SpecChoice {
  /** The spec file on the command line (optional with `resume`). */
  readonly spec?: string | undefined;
  readonly sets?: readonly string[];
  /** --iters: recorded as training.max_iters. */
  readonly iters?: number | undefined;
  readonly resume?: string | undefined;
}

export interface TrainingSpec {
  /** The file loaded: the spec given, or on --resume the run's spec.resolved.yaml (or the original file when it says the same). */
  readonly path: string;
  readonly loaded: LoadedSpec;
  /** Every --set the run trains with, the recorded ones first: the checkpoints' `overrides`. */
  readonly sets: readonly string[];
  /** The spec file meta.json names (a resumed run keeps the one it started from). */
  readonly origin: { readonly path: string; readonly sha256: string };
  /** sha256 of a resumed run's spec.resolved.yaml, for its checkpoints' meta.json. */
  readonly runSpecSha256?: string;
}

/** Up to three fields where two specs differ, as `training.optimizer.lr 0.001 → 0.5`. */
export function specDifferences(before: unknown, after: unknown, at = ""): string[] {
  if (canonicalJson(before) === canonicalJson(after)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
  if (!isObj(before) || !isObj(after) || Array.isArray(before) !== Array.isArray(after)) {
    const show = (v: unknown): string => (v === undefined ? "(none)" : JSON.stringify(v));
    return [`${at || "the spec"} ${show(before)} → ${show(after)}`];
  }
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys.flatMap((k) => specDifferences(before[k], after[k], at ? `${at}.${k}` : k)).slice(0, 3);
}

export function trainingSpec(choice: SpecChoice, previous: Checkpoint | undefined, log: (line: string) => void): TrainingSpec {
  const recorded = previous?.meta.overrides ?? [];
  const sets = [...recorded, ...(choice.sets ?? []), ...(choice.iters !== undefined ? [`training.max_iters=${choice.iters}`] : [])];
  if (!previous || choice.resume === undefined) {
    if (choice.spec === undefined) throw new UserError("train needs a spec file (or --resume RUN_DIR)");
    const path = resolve(process.cwd(), choice.spec);
    const loaded = loadSpec(path, { sets, cwd: PROJECT_ROOT });
    return { path, loaded, sets, origin: loaded.files[0]! };
  }
  const runDir = resolve(choice.resume);
  const runSpec = checkedRunSpec(runDir, previous.meta);
  const own = loadSpec(runSpec.file, { sets, cwd: PROJECT_ROOT });
  const m = previous.meta.spec;
  if (!runSpec.recorded && lowerSpec(own).modelHash !== m.modelHash) {
    // a run from before meta.json recorded the spec's hash: its model hash stands in for it
    throw new UserError(`${runSpec.file} does not describe the model in ${runDir}'s checkpoint (model sha256 ${lowerSpec(own).modelHash.slice(0, 12)}… vs ${m.modelHash.slice(0, 12)}…)`);
  }
  const origin = { path: m.path, sha256: m.sha256 };
  const result = (path: string, loaded: LoadedSpec): TrainingSpec => ({ path, loaded, sets, origin, runSpecSha256: runSpec.sha256 });
  const arg = choice.spec ?? m.path;
  const original = resolve(choice.spec === undefined ? PROJECT_ROOT : process.cwd(), arg);
  if (choice.spec !== undefined) {
    const given = loadSpec(original, { sets, cwd: PROJECT_ROOT });
    if (lowerSpec(given).modelHash !== m.modelHash) {
      throw new UserError(`the checkpoint in ${choice.resume} belongs to spec "${m.name}" (${m.path}, model sha256 ${m.modelHash.slice(0, 12)}…), whose model differs from ${given.files[0]!.path}'s`);
    }
  } else if (!existsSync(original)) {
    log(`${arg} is gone; resuming from the run's own copy, ${runSpec.file}`);
    return result(runSpec.file, own);
  }
  let differences: string[];
  let loaded: LoadedSpec | undefined;
  try {
    loaded = loadSpec(original, { sets, cwd: PROJECT_ROOT });
    differences = specDifferences(own.spec, loaded.spec);
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    differences = ["it no longer loads"];
  }
  // The same spec either way: the original file keeps the run on its generated code.
  if (loaded && differences.length === 0) return result(original, loaded);
  log(`${arg} has changed since ${runDir} started (${differences.join("; ")}); resuming with the run's own spec, ${runSpec.file} (to change a setting, pass --set: it is recorded)`);
  return result(runSpec.file, own);
}

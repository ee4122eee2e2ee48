// Spec loading: read the file, follow its `extends` chain (catching cycles and missing files), merge,
// apply `--set` overrides, then validate against the schema. The result is a typed, defaulted spec plus
// the location of everything in it.
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, relative, resolve, sep } from "node:path";
import { fail, type Loc } from "../diagnostics/diagnostic.js";
import { locate, type Located, type LocMap } from "./located.js";
import { expandDefinitions, type Expansions } from "./define.js";
import { mergeLocated } from "./merge.js";
import { parseSpecText, type ParsedFile } from "./parse-yaml.js";
import { applySet } from "./set-override.js";
import { layerKinds, validateSpec } from "./validate.js";
import type { Spec } from "./types.generated.js";

export interface SpecFile {
  /** As shown in messages and in generated headers: relative to the working directory, '/'-separated. */
  readonly path: string;
  readonly sha256: string;
}

export interface LoadedSpec {
  readonly spec: Spec;
  readonly locs: LocMap;
  /** The spec file first, then the files it extends, nearest first. */
  readonly files: readonly SpecFile[];
  /** Where a defined kind (define:) was inserted as a block, by the block's pointer. */
  readonly expansions?: Expansions;
}

export interface LoadOptions {
  readonly sets?: readonly string[];
  /** Base for the displayed paths (default: the working directory). */
  readonly cwd?: string;
}

export function displayPath(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  // '/'-separated on Windows too; on POSIX a backslash is part of a file name, not a separator
  return (rel.startsWith("..") ? file : rel).split(sep).join("/");
}

/** The largest spec file read: specs are a few kilobytes; a file past this is not one (and would only exhaust memory). */
export const MAX_SPEC_BYTES = 4 * 2 ** 20;

const tooLarge = (bytes: number): string => `is ${(bytes / 2 ** 20).toFixed(1)} MiB, more than a spec can be (at most ${MAX_SPEC_BYTES / 2 ** 20} MiB of YAML)`;

export function loadSpec(file: string, options: LoadOptions = {}): LoadedSpec {
  const cwd = options.cwd ?? process.cwd();
  const absolute = resolve(cwd, file);
  if (!existsSync(absolute)) {
    fail({ kind: "cli", arg: displayPath(absolute, cwd) }, "spec file not found");
  }
  const st = statSync(absolute);
  if (!st.isFile()) fail({ kind: "cli", arg: displayPath(absolute, cwd) }, "is not a spec file (a directory?)");
  if (st.size > MAX_SPEC_BYTES) fail({ kind: "cli", arg: displayPath(absolute, cwd) }, tooLarge(st.size));
  const { located, files } = readChain(absolute, [], cwd);
  let merged = located;
  for (const arg of options.sets ?? []) merged = applySet(merged, arg);
  const expanded = expandDefinitions(merged, layerKinds());
  const spec = validateSpec(expanded.located, expanded.defined);
  return { spec, locs: expanded.located.locs, files, expansions: expanded.expansions };
}

function readChain(absolute: string, chain: readonly string[], cwd: string): { located: Located; files: SpecFile[] } {
  const parsed: ParsedFile = parseSpecText(readFileSync(absolute, "utf8"), displayPath(absolute, cwd));
  const self: SpecFile = { path: parsed.displayPath, sha256: parsed.sha256 };
  const value = parsed.value as Record<string, unknown>;
  const parentRef = value["extends"];
  if (parentRef === undefined) return { located: parsed, files: [self] };

  const at: Loc = locate(parsed.locs, "/extends");
  if (typeof parentRef !== "string") fail(at, `"extends" must be a path to another spec; got ${JSON.stringify(parentRef)}`);
  const parentPath = resolve(dirname(absolute), parentRef);
  const seen = [...chain, absolute];
  if (seen.includes(parentPath)) {
    const cycle = [...seen.slice(seen.indexOf(parentPath)), parentPath].map((p) => displayPath(p, cwd));
    fail(at, `extends cycle: ${cycle.join(" → ")}`);
  }
  if (!existsSync(parentPath)) fail(at, `extends a spec that does not exist: ${displayPath(parentPath, cwd)}`);
  const parentStat = statSync(parentPath);
  if (!parentStat.isFile()) fail(at, `extends ${displayPath(parentPath, cwd)}, which is not a spec file (a directory?)`);
  // a spec extends another spec: a file of any other kind is not read, so none of its lines is ever shown
  if (!/\.ya?ml$/i.test(parentPath)) fail(at, `extends ${displayPath(parentPath, cwd)}, which is not a spec (a .yaml or .yml file)`);
  if (parentStat.size > MAX_SPEC_BYTES) fail(at, `extends ${displayPath(parentPath, cwd)}, which ${tooLarge(parentStat.size)}`);
  const parent = readChain(parentPath, seen, cwd);
  const merged = mergeLocated(parent.located, parsed);
  const { extends: _resolved, ...rest } = merged.value as Record<string, unknown>;
  return { located: { value: rest, locs: merged.locs }, files: [self, ...parent.files] };
}

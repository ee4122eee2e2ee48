// A run's own spec, spec.resolved.yaml, checked before anything is built from it. Every checkpoint's
// meta.json records the file's sha256 (files.spec), so an edited or damaged copy (a description changed,
// a layer added) is refused in one line rather than compiled and run. A run written before that hash
// existed has none: its spec is accepted once its model hash matches the checkpoint's (the caller checks
// that after lowering it), and the run gets the hash with its next checkpoint.
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors.js";
import type { CheckpointMeta } from "./checkpoint.js";

export const RUN_SPEC = "spec.resolved.yaml";

export interface RunSpec {
  /** The file's path. */
  readonly file: string;
  /** Its sha256, as the run's next checkpoint records it. */
  readonly sha256: string;
  /** False for a run from before meta.json recorded the hash: its model hash must be checked instead. */
  readonly recorded: boolean;
}

export const specSha256 = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex");

/** The run's spec.resolved.yaml, refused when it differs from what meta.json recorded. */
export function checkedRunSpec(runDir: string, meta: CheckpointMeta): RunSpec {
  const file = join(runDir, RUN_SPEC);
  if (!existsSync(file)) throw new UserError(`${runDir} has no ${RUN_SPEC}, so its architecture is unknown`);
  if (!lstatSync(file).isFile()) throw new UserError(`${file} is not a regular file (a link or a folder); a run's spec is a file of its own`);
  const sha256 = specSha256(readFileSync(file));
  const expected = meta.files.spec;
  if (expected === undefined) return { file, sha256, recorded: false };
  if (sha256 !== expected) {
    throw new UserError(`${file} does not match its meta.json (sha256 ${sha256.slice(0, 12)}…, recorded ${expected.slice(0, 12)}…); the file was changed or damaged, and nothing is built from it`);
  }
  return { file, sha256, recorded: true };
}

// Where a command may write. Every path a user names (`--out`, a spec outside specs/, a report) goes
// through here first, so a typo never replaces a checkpoint, a hand-written file or a committed report:
// a command overwrites only a file it wrote itself (recognized by its marker) unless told --force, never
// a run's own files, and a bad path (a missing folder, a directory, a path under a file) gets one line.
import { closeSync, existsSync, lstatSync, openSync, readlinkSync, readSync, statSync, type Stats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { writeFileAtomic } from "../util/write-atomic.js";
import { UserError } from "./errors.js";

/** The files of a run directory that only training writes (a directory is a run when it holds meta.json). */
export const RUN_FILES = ["model.safetensors", "optimizer.safetensors", "meta.json", "metrics.jsonl", "spec.resolved.yaml", "model.ts", "train.lock"] as const;

export interface OutputOptions {
  /** How the path was given, for messages: "--out runs/x/loss.svg" reads better than the bare path. */
  readonly label: string;
  /** The command, for messages ("babygpt plot"). */
  readonly command: string;
  /** True when the first bytes of an existing file show that this command wrote it. */
  readonly owns: (head: string) => boolean;
  /** Replace a file this command did not write (never a run's own files). */
  readonly force?: boolean;
}

/** What kind of thing is at `path`, in words, for a path that is not a regular file or a directory. */
function kindOf(st: Stats): string {
  if (st.isFIFO()) return "a named pipe";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  if (st.isSymbolicLink()) return "a symbolic link";
  return "not a regular file";
}

/** The first ancestor of `path` that exists, and whether it is a directory. */
function existingAncestor(path: string): { dir: string; isDir: boolean } {
  let p = dirname(path);
  for (;;) {
    if (existsSync(p)) return { dir: p, isDir: statSync(p).isDirectory() };
    const up = dirname(p);
    if (up === p) return { dir: p, isDir: true };
    p = up;
  }
}

/** Refuses a path under a file, wherever in the path the file is. */
function checkNotUnderFile(path: string, label: string): void {
  const { dir, isDir } = existingAncestor(path);
  if (!isDir) throw new UserError(`${label}: ${dir} is a file, so nothing can be written under it`);
}

function head(file: string, bytes = 4096): string {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/**
 * Text safe inside an HTML or XML comment (a file's marker, which names a run's path and a prompt): a
 * comment cannot hold "--", so a path like `r--><svg onload=…>` cannot end it and become markup.
 */
export function commentText(text: string): string {
  return text.replace(/-(?=-)/g, "- ").replace(/-$/, "- ");
}

/** A file that belongs to a run directory's checkpoint or record. */
export function isRunFile(file: string): boolean {
  return (RUN_FILES as readonly string[]).includes(basename(file)) && existsSync(join(dirname(file), "meta.json"));
}

/**
 * Checks that `file` may be written: its folder exists, it is not a directory or a special file, and if
 * it exists this command wrote it (or --force says to replace it). Throws a one-line UserError otherwise.
 */
export function checkOutputFile(file: string, options: OutputOptions): void {
  const path = resolve(file);
  const { label } = options;
  checkNotUnderFile(path, label);
  if (!existsSync(dirname(path))) throw new UserError(`${label}: the folder ${dirname(path)} does not exist; create it first`);
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return; // a new file
  }
  if (st.isDirectory()) throw new UserError(`${label} is a directory; name a file to write`);
  if (isRunFile(path)) throw new UserError(`${label} is part of the run in ${dirname(path)} (its ${basename(path)}); ${options.command} never replaces a run's own files, so choose another path`);
  if (!st.isFile()) throw new UserError(`${label} is ${kindOf(st)}, not a file ${options.command} can replace; choose another path`);
  if (options.force) return;
  if (!options.owns(head(path))) {
    throw new UserError(`${label} exists and was not written by ${options.command}; choose another path, or pass --force to replace it`);
  }
}

/** checkOutputFile, then an atomic write. */
export function writeOutputFile(file: string, data: string | Uint8Array, options: OutputOptions): void {
  checkOutputFile(file, options);
  writeFileAtomic(resolve(file), data);
}

/**
 * Checks a directory a command will create (or fill): not a file, not under a file. Missing parents are
 * fine (they are created, as `mkdir -p` would).
 */
export function checkOutputDir(dir: string, label: string): void {
  const path = resolve(dir);
  checkNotUnderFile(path, label);
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return; // a new folder
  }
  if (st.isSymbolicLink() && !existsSync(path)) {
    throw new UserError(`${label} is a symbolic link to ${readlinkSync(path)}, which does not exist; create that folder or remove the link`);
  }
  if (st.isDirectory() || (st.isSymbolicLink() && statSync(path).isDirectory())) return;
  throw new UserError(st.isFile() ? `${label} is a file; name a directory` : `${label} is ${kindOf(st)}; name a directory`);
}

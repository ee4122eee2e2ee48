// Writing into a run touches that run alone. A training appends to its own files (metrics.jsonl, the torch
// engine's logs and stop file) and fills its own folders (torch/, torch/logs/); a symbolic link standing
// in one of those places, put there by hand or by another tool, would send the writes into whatever it
// points at: another run, a file of the user's. Appends are opened with O_NOFOLLOW and folders are
// checked with lstat, so a link is refused in one line instead of followed. (Whole files are replaced by
// rename, compiler/write-atomic.ts, which replaces a link rather than writing through it.)
import { closeSync, constants, lstatSync, mkdirSync, openSync, writeSync } from "node:fs";
import { UserError } from "../errors.js";

const APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

/** Appends `text` to `file` (creating it), never through a symbolic link. */
export function appendOwnFile(file: string, text: string | Uint8Array): void {
  let fd: number;
  try {
    fd = openSync(file, APPEND, 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOOP") {
      throw new UserError(`${file} is a symbolic link; babygpt writes a run's files in the run itself, never through a link (remove the link and run the command again)`);
    }
    throw e;
  }
  try {
    const bytes = typeof text === "string" ? Buffer.from(text) : text;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  } finally {
    closeSync(fd);
  }
}

/** Creates `dir` (a folder of a run) when missing; refuses a link, a file or anything else standing there. */
export function ownDir(dir: string): void {
  try {
    mkdirSync(dir);
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const st = lstatSync(dir);
  if (st.isDirectory()) return;
  const what = st.isSymbolicLink() ? "a symbolic link" : st.isFile() ? "a file" : "not a folder";
  throw new UserError(`${dir} is ${what}, not a folder of this run; babygpt writes a run's files in the run itself, never through a link (remove it and run the command again)`);
}

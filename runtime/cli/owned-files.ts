// Writing a command's files into a directory without clobbering what someone else put there. A manifest
// in the directory lists the files the command wrote last time: those it may rewrite (and removes when
// they are no longer produced); any other file already at one of its names is refused, before anything
// is written. Kept to this one function so a shared --force mechanism can replace it.
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../compiler/write-atomic.js";
import { UserError } from "../errors.js";

/** Writes `files` (name → content) into `dir`; `manifest` names the list of what this command owns there. */
export function writeOwnedFiles(dir: string, manifest: string, files: ReadonlyMap<string, string>, command: string): void {
  const manifestPath = join(dir, manifest);
  let owned: string[] = [];
  if (existsSync(manifestPath)) {
    try {
      const parsed = JSON.parse(readFileSync(manifestPath, "utf8")) as { files?: unknown };
      if (Array.isArray(parsed.files)) owned = parsed.files.filter((f): f is string => typeof f === "string" && !f.includes("/"));
    } catch {
      throw new UserError(`${manifestPath} is not the list ${command} keeps of its files; remove it or choose another --out`);
    }
  }
  const foreign = [...files.keys()].filter((name) => existsSync(join(dir, name)) && !owned.includes(name));
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 3).join(", ") + (foreign.length > 3 ? ` and ${foreign.length - 3} more` : "");
    throw new UserError(`${dir} already has ${shown}, which ${command} did not write; choose another --out or move them away`);
  }
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of files) writeFileAtomic(join(dir, name), text);
  for (const stale of owned) if (!files.has(stale)) rmSync(join(dir, stale), { force: true });
  writeFileAtomic(manifestPath, `${JSON.stringify({ command, files: [...files.keys()].sort() }, null, 2)}\n`);
}

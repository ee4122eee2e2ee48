// The run directory: runs/<spec>-<UTC time>/ unless --out names one.
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { UserError } from "../errors.js";

/** Refuses an --out that names a file or a directory with something in it; `train` asks before any work. */
export function checkOutDir(out: string | undefined): void {
  if (out === undefined) return;
  const dir = resolve(out);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError(`--out ${out} is a file; name a new directory for the run`);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new UserError(`--out ${out} exists and is not empty; choose a new directory, or continue that run with --resume ${out}`);
  }
}

export function newRunDir(specName: string, out: string | undefined, root: string): string {
  if (out !== undefined) {
    checkOutDir(out);
    const dir = resolve(out);
    mkdirSync(dir, { recursive: true });
    return dir;
  }
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  let dir = join(root, "runs", `${specName}-${stamp}`);
  for (let i = 2; existsSync(dir); i++) dir = join(root, "runs", `${specName}-${stamp}-${i}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

// The run directory: runs/<spec>-<UTC time>/ under the current directory unless --out names one (a user
// of an installed package gets runs beside their work, not inside node_modules).
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { UserError } from "../errors.js";
import { makeDirs } from "../make-dirs.js";
import { checkOutputDir } from "../safe-output.js";
import { LOCK_FILE, liveHolder, describeHolder } from "./run-lock.js";

/** Refuses an --out that names a file, a run another process trains, or a directory with something in it; `train` asks before any work. */
export function checkOutDir(out: string | undefined): void {
  if (out === undefined) return;
  const dir = resolve(out);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError(`--out ${out} is a file; name a new directory for the run`);
  checkOutputDir(dir, `--out ${out}`);
  if (!existsSync(dir)) return;
  const holder = liveHolder(dir);
  if (holder) throw new UserError(`--out ${out} is being trained by another process (${describeHolder(holder)}: ${holder.command}); choose a new directory`);
  // a lock left by a crash before anything else was written does not make the directory a run
  if (readdirSync(dir).some((f) => f !== LOCK_FILE)) {
    throw new UserError(`--out ${out} exists and is not empty; choose a new directory, or continue that run with --resume ${out}`);
  }
}

/** The default runs folder: runs/ in the current directory. */
export function runsDir(cwd: string = process.cwd()): string {
  return join(cwd, "runs");
}

export function newRunDir(specName: string, out: string | undefined, root: string = runsDir()): string {
  if (out !== undefined) {
    checkOutDir(out);
    const dir = resolve(out);
    makeDirs(dir, { label: `--out ${out}` });
    return dir;
  }
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  makeDirs(root);
  // The last component is made with a plain mkdir, which fails if it exists: two runs started in the
  // same second get a directory each.
  for (let i = 1; ; i++) {
    const dir = join(root, i === 1 ? `${specName}-${stamp}` : `${specName}-${stamp}-${i}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
}

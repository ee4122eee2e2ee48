// `mkdir -p`, one folder at a time. Node's recursive mkdirSync loops forever on a filesystem that answers
// every mkdir with ENOENT (XDG_CACHE_HOME=/proc), and being synchronous it also keeps the process from
// hearing Ctrl-C or SIGTERM; here such a folder fails at once and is said in one line.
import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { UserError } from "./errors.js";

/** Errors a caller says in its own words (a full disk, a read-only or closed folder): passed on as they are. */
const WRITE_ERRORS = new Set(["ENOSPC", "EDQUOT", "EACCES", "EROFS", "EPERM"]);

/** Creates `dir` and the folders above it that are missing; `label` names it in the error. */
export function makeDirs(dir: string, options: { readonly mode?: number; readonly label?: string } = {}): void {
  const missing: string[] = [];
  for (let p = resolve(dir); !existsSync(p); p = dirname(p)) {
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p, options.mode === undefined ? {} : { mode: options.mode });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "";
      if (code === "EEXIST") continue;
      if (WRITE_ERRORS.has(code)) throw e;
      throw new UserError(`${options.label ?? dir}: cannot create the folder ${p} (${code || String(e)})`);
    }
  }
}

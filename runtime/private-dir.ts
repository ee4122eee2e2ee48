// A folder of the user's cache that only the user can change: created 0700, and it and every folder
// above it checked to be the user's (or root's) and closed to others (a group- or world-writable folder
// only with the sticky bit, like /tmp). The model cache (model-source.ts: code that is imported) and the
// token cache (data/token-cache.ts: what a model learns from) both live in one.
import { lstatSync, realpathSync, type Stats } from "node:fs";
import { dirname } from "node:path";
import { UserError } from "./errors.js";
import { makeDirs } from "./make-dirs.js";

const uid = (): number | undefined => process.getuid?.();

/** Why another user could change what is at `path` (a folder on the way to the cache), or undefined. */
function unsafe(st: Stats): string | undefined {
  const me = uid();
  if (me === undefined) return undefined; // no owners to check (Windows)
  if (st.uid !== me && st.uid !== 0) return `belongs to another user (uid ${st.uid})`;
  // group- or world-writable is fine only with the sticky bit (like /tmp): others cannot replace our entries
  if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) return `is writable by other users (mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")})`;
  return undefined;
}

export interface PrivateDirLabel {
  /** "the model cache" */
  readonly name: string;
  /** Why it must be private: "babygpt imports code from it only when no one else can change it". */
  readonly because: string;
}

/** Creates `dir` (0700) and checks that no one but the user can change it or any folder above it. */
export function privateDir(dir: string, label: PrivateDirLabel): string {
  try {
    // one folder at a time: a recursive mkdirSync spins on a filesystem that answers ENOENT (/proc)
    makeDirs(dir, { mode: 0o700 });
  } catch (e) {
    const why = e instanceof UserError ? e.message.slice(e.message.lastIndexOf("(") + 1, -1) : ((e as NodeJS.ErrnoException).code ?? String(e));
    throw new UserError(`cannot create ${label.name} ${dir} (${why}); set XDG_CACHE_HOME to a folder of your own`);
  }
  const refuse = (p: string, why: string): never => {
    const ours = p === dir || p === dirname(dir);
    const fix = ours && why.startsWith("is writable") ? `chmod 700 ${p}, or set XDG_CACHE_HOME to a folder of your own` : "set XDG_CACHE_HOME to a folder of your own";
    throw new UserError(`${label.name} ${dir} is unsafe: ${p} ${why}; ${label.because} (${fix})`);
  };
  // Both the path as named and the one its links lead to: a link can only be swapped through its folder.
  const real = realpathSync(dir);
  for (const start of [dir, real]) {
    for (let p = start; ; p = dirname(p)) {
      const st = lstatSync(p);
      const why = st.isSymbolicLink() ? undefined : unsafe(st);
      if (why) refuse(p, why);
      if (dirname(p) === p) break;
    }
  }
  const own = lstatSync(real).uid;
  if (uid() !== undefined && own !== uid()) refuse(real, `belongs to another user (uid ${own})`);
  return dir;
}

/** True when `st` (a file in a private folder) is the user's own. */
export const ownedByUser = (st: Stats): boolean => st.uid === (uid() ?? st.uid);

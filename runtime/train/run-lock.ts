// One writer per run directory. A training holds <run>/train.lock for its whole life: a JSON record of
// who holds it (pid, host, when, and the process's start time, so a reused pid is not taken for the
// holder). A second `train --out`/`--resume` into the directory is refused with the holder's name; a lock
// whose process is gone (a crash, kill -9) is stale and taken over. Readers (eval, sample) do not lock,
// but leave a locked run's half-written checkpoint to its writer.
import { closeSync, constants, existsSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { UserError } from "../errors.js";

export const LOCK_FILE = "train.lock";

export interface LockInfo {
  readonly pid: number;
  readonly host: string;
  readonly started: string;
  /** Field 22 of /proc/<pid>/stat (start time since boot, in clock ticks): tells a reused pid apart. */
  readonly procStart?: string;
  readonly command: string;
}

export interface RunLock {
  readonly file: string;
  /** Throws if another process has taken the lock since (someone deleted it by hand). */
  assertHeld(): void;
  release(): void;
}

function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // the command name, in parentheses, may hold spaces: count fields after its closing parenthesis
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // alive, another user's
  }
}

/** A lock that cannot be read: being written this moment (young), or cut short by a crash (old). */
const UNREADABLE = (young: boolean): LockInfo => ({ pid: young ? 0 : -1, host: "?", started: "?", command: "a process that is writing its lock" });

export function readLock(dir: string): LockInfo | undefined {
  const file = join(dir, LOCK_FILE);
  try {
    const info = JSON.parse(readFileSync(file, "utf8")) as LockInfo;
    if (typeof info === "object" && info !== null && Number.isInteger(info.pid)) return info;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
  }
  try {
    return UNREADABLE(Date.now() - statSync(file).mtimeMs < 10_000);
  } catch {
    return undefined;
  }
}

/** Whether the process named by a lock still runs (on another host we cannot tell, so we assume it does). */
export function isLive(info: LockInfo): boolean {
  if (info.pid === 0) return true; // being written right now
  if (info.pid < 0) return false;
  if (info.host !== hostname()) return true;
  if (!running(info.pid)) return false;
  return info.procStart === undefined || procStart(info.pid) === undefined || procStart(info.pid) === info.procStart;
}

/** The live process training `dir`, if any (not this one). */
export function liveHolder(dir: string): LockInfo | undefined {
  const info = readLock(dir);
  return info && info.pid !== process.pid && isLive(info) ? info : undefined;
}

export function describeHolder(info: LockInfo): string {
  return `pid ${info.pid}${info.host === hostname() ? "" : ` on ${info.host}`}, since ${info.started}`;
}

function heldError(dir: string, info: LockInfo): UserError {
  const elsewhere = info.host !== hostname() ? `; if nothing on ${info.host} trains it any more, delete ${join(dir, LOCK_FILE)}` : "";
  return new UserError(`${dir} is being trained by another process (${describeHolder(info)}: ${info.command}); wait for it to finish or stop it first${elsewhere}`);
}

/**
 * Puts the lock record in place, failing with EEXIST if a lock is there. A hard link of the written
 * record is atomic and never seen half-written; where the filesystem has no hard links, an exclusive
 * create and a write (a reader may meet it empty for a moment, which `readLock` allows for).
 */
function place(tmp: string, file: string, text: string): void {
  try {
    linkSync(tmp, file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw e;
    const fd = openSync(file, "wx", 0o644);
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
  }
}

const sameLock = (a: string, b: LockInfo): boolean => {
  try {
    const x = JSON.parse(a) as LockInfo;
    return x.pid === b.pid && x.started === b.started && x.host === b.host;
  } catch {
    return b.pid < 0; // both unreadable: the stale lock that was judged
  }
};

/**
 * Takes the lock of `dir` for this process, or throws a one-line UserError naming the holder. `onTakeover`
 * hears about a stale lock that was taken over.
 */
export function lockRun(dir: string, onTakeover?: (stale: LockInfo) => void): RunLock {
  const file = join(dir, LOCK_FILE);
  const mine: LockInfo = {
    pid: process.pid,
    host: hostname(),
    started: new Date().toISOString(),
    ...(procStart(process.pid) !== undefined ? { procStart: procStart(process.pid)! } : {}),
    command: ["babygpt", ...process.argv.slice(2)].join(" "),
  };
  const text = `${JSON.stringify(mine)}\n`;
  // The record is written to a file of its own and linked into place: link fails if a lock exists, and
  // the lock is never seen half-written.
  const tmp = join(dir, `.${LOCK_FILE}.${process.pid}.tmp`);
  // never through a link left at the name: O_NOFOLLOW
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        place(tmp, file, text);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 3) throw e;
      }
      const holder = readLock(dir);
      if (holder === undefined) continue; // released meanwhile
      if (isLive(holder)) throw heldError(dir, holder);
      // Stale: move it aside, and check that what was moved is the stale lock and not a fresh one that
      // another process took in the meantime (then put that one back and give way).
      const aside = join(dir, `.${LOCK_FILE}.stale.${process.pid}`);
      try {
        renameSync(file, aside);
      } catch {
        continue;
      }
      const moved = readFileSync(aside, "utf8");
      if (!sameLock(moved, holder)) {
        try {
          linkSync(aside, file);
        } catch {
          // a third process holds it now; its record stands
        }
        rmSync(aside, { force: true });
        const now = readLock(dir);
        throw heldError(dir, now ?? holder);
      }
      rmSync(aside, { force: true });
      onTakeover?.(holder);
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    process.off("exit", release);
    try {
      if (existsSync(file) && sameLock(readFileSync(file, "utf8"), mine)) rmSync(file, { force: true });
    } catch {
      // a read-only disk or a removed directory: the next writer finds the lock stale
    }
  };
  // process.exit() (a second Ctrl-C) skips finally blocks, but not this.
  process.on("exit", release);
  return {
    file,
    assertHeld() {
      let now: string;
      try {
        now = readFileSync(file, "utf8");
      } catch {
        now = "";
      }
      if (!sameLock(now, mine)) {
        held = false;
        process.off("exit", release);
        const other = readLock(dir);
        throw new UserError(`${file} no longer names this process${other ? ` (${describeHolder(other)} holds it)` : " (it was deleted)"}; stopping without writing over the other writer's checkpoint`);
      }
    },
    release,
  };
}

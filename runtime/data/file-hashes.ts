// Each corpus file's sha256, remembered in the token cache's files.json by path with the size, modification
// time and inode it had: a file whose stat still matches is not read again, so a cache hit on a corpus of
// gigabytes costs a stat per file. A file that changed (or moved in under the same name) is hashed again.
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../util/write-atomic.js";
import { UserError } from "../errors.js";
import { TINYSHAKESPEARE } from "./corpus.js";
import type { CorpusFile } from "./corpus-files.js";

interface Entry {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
  readonly sha256: string;
}

export interface HashProgress {
  /** Bytes hashed so far of the total that needs hashing (called only when some file must be read). */
  (done: number, total: number): void;
}

function readIndex(file: string): Record<string, Entry> {
  if (!existsSync(file)) return {};
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as unknown;
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, Entry>) : {};
  } catch {
    return {}; // a damaged index only costs hashing again
  }
}

const same = (e: Entry | undefined, f: CorpusFile): e is Entry => e !== undefined && e.size === f.size && e.mtimeMs === f.mtimeMs && e.ino === f.ino && typeof e.sha256 === "string";

async function hashFile(path: string, onBytes: (n: number) => void): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) {
    hash.update(chunk as Buffer);
    onBytes((chunk as Buffer).length);
  }
  return hash.digest("hex");
}

/**
 * The files' sha256, in order; the index in `cacheDir` is read and, when something was hashed, rewritten.
 * `onChanged` hears of each file whose content differs from what the index last recorded for its path.
 */
export async function fileHashes(cacheDir: string, files: readonly CorpusFile[], onProgress?: HashProgress, onChanged?: (path: string, was: string, now: string) => void): Promise<string[]> {
  const indexFile = join(cacheDir, "files.json");
  const index = readIndex(indexFile);
  const stale = files.filter((f) => !same(index[f.path], f));
  const total = stale.reduce((n, f) => n + f.size, 0);
  let done = 0;
  for (const f of stale) {
    const sha256 = await hashFile(f.path, (n) => onProgress?.((done += n), total));
    const was = index[f.path]?.sha256;
    if (was !== undefined && was !== sha256) onChanged?.(f.path, was, sha256);
    index[f.path] = { size: f.size, mtimeMs: f.mtimeMs, ino: f.ino, sha256 };
  }
  if (stale.length > 0) {
    // Another process may have added entries meanwhile: keep theirs, with ours on top.
    writeFileAtomic(indexFile, `${JSON.stringify({ ...readIndex(indexFile), ...Object.fromEntries(stale.map((f) => [f.path, index[f.path]])) })}\n`);
  }
  const hashes = files.map((f) => index[f.path]!.sha256);
  files.forEach((f, i) => {
    if (f.path.endsWith(TINYSHAKESPEARE.file) && hashes[i] !== TINYSHAKESPEARE.sha256) {
      throw new UserError(`${f.path} is not the expected tinyshakespeare text (sha256 ${hashes[i]}, expected ${TINYSHAKESPEARE.sha256}); replace it with the original`);
    }
  });
  return hashes;
}

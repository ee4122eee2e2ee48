// The token cache: a corpus tokenized once, kept as nanoGPT's train.bin and val.bin (uint16 where the
// vocabulary fits, else uint32) with a manifest, in a folder named by the sha256 of what determines the
// tokens (the corpus files' hashes and formats, the tokenizer, the split). It lives in the user's cache
// ($XDG_CACHE_HOME/babygpt/tokens), with the model cache's protections: 0700, every folder above it the
// user's (or root's) and closed to others (runtime/private-dir.ts). An entry is built in a folder of its
// own beside the others and renamed into place only when complete and synced, so a crash or Ctrl-C
// leaves no half-written entry (only a build folder, removed by the next prepare); an entry is checked
// against its manifest (the key, each file's size) before it is used.
import { createHash } from "node:crypto";
import { closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { canonicalJson } from "../../util/hash.js";
import { ownedByUser, privateDir } from "../private-dir.js";
import type { CorpusRecord } from "./corpus-record.js";
import type { TokenizerState } from "./tokenizer.js";
import { bytesPerToken, type TokenDtype } from "./token-source.js";

export const TOKENS_FORMAT = "babygpt-tokens/1";

/** $XDG_CACHE_HOME/babygpt/tokens, or ~/.cache/babygpt/tokens. */
export function tokenCachePath(): string {
  return join(process.env["XDG_CACHE_HOME"] || join(homedir(), ".cache"), "babygpt", "tokens");
}

export const tokenCacheDir = (): string => privateDir(tokenCachePath(), { name: "the token cache", because: "babygpt trains on its files only when no one else can change them" });

export interface SourceRecord {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly format: "text" | "jsonl";
  readonly gzip: boolean;
}

export interface Manifest {
  readonly format: typeof TOKENS_FORMAT;
  readonly key: string;
  /** What the key hashes. */
  readonly identity: unknown;
  readonly tokenizer: TokenizerState;
  readonly vocabSize: number;
  readonly dtype: TokenDtype;
  readonly tokens: { readonly train: number; readonly val: number };
  /** How train and val were cut, in words, and by which rule. */
  readonly split: { readonly rule: "tokens" | "bytes"; readonly valFraction: number; readonly description: string };
  readonly corpus: CorpusRecord;
  readonly sources: readonly SourceRecord[];
  readonly documents: number;
  readonly emptyFiles: number;
  readonly emptyDocuments: number;
  readonly files: { readonly train: { readonly bytes: number; readonly sha256: string }; readonly val: { readonly bytes: number; readonly sha256: string } };
  readonly preparedAt: string;
  readonly seconds: number;
}

export interface CacheEntry {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly train: string;
  readonly val: string;
  /** Hugging Face's tokenizer.json, for a learned BPE. */
  readonly tokenizerJson?: string;
}

export const cacheKey = (identity: unknown): string => createHash("sha256").update(canonicalJson(identity)).digest("hex");

function entryFiles(dir: string, manifest: Manifest): CacheEntry {
  const json = join(dir, "tokenizer.json");
  return { dir, manifest, train: join(dir, "train.bin"), val: join(dir, "val.bin"), ...(existsSync(json) ? { tokenizerJson: json } : {}) };
}

/**
 * The entry for `key`, if there is a whole one. A damaged entry (a manifest that does not parse or names
 * another key, a token file of the wrong size, a file that is not the user's) is removed, with the reason
 * passed to `onDamaged`, and is prepared again.
 */
export function openEntry(cache: string, key: string, onDamaged: (why: string) => void): CacheEntry | undefined {
  const dir = join(cache, key);
  if (!existsSync(dir)) return undefined;
  const why = damage(dir, key);
  if (why === undefined) return entryFiles(dir, JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest);
  onDamaged(`${dir}: ${why}`);
  rmSync(dir, { recursive: true, force: true });
  return undefined;
}

function damage(dir: string, key: string): string | undefined {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;
  } catch {
    return "its manifest.json is missing or not JSON";
  }
  if (manifest.format !== TOKENS_FORMAT || manifest.key !== key || cacheKey(manifest.identity) !== key) return "its manifest.json does not describe this entry";
  for (const split of ["train", "val"] as const) {
    const file = join(dir, `${split}.bin`);
    let st;
    try {
      st = lstatSync(file);
    } catch {
      return `${split}.bin is missing`;
    }
    if (!st.isFile() || !ownedByUser(st)) return `${split}.bin is not a file of this user's`;
    const want = manifest.tokens[split] * bytesPerToken(manifest.dtype);
    if (st.size !== want || manifest.files[split].bytes !== want) return `${split}.bin holds ${st.size} bytes, its manifest says ${want}`;
  }
  return undefined;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** Build folders left by a prepare that died (a crash, kill -9), removed before a new one starts. */
export function removeDeadBuilds(cache: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(cache)) {
    const m = /^\.build-[0-9a-f]+-(.+)-(\d+)-[0-9a-f]+$/.exec(name);
    if (!m || m[1] !== hostname() || alive(Number(m[2]))) continue;
    rmSync(join(cache, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** A new build folder for `key`, named by this host and process so that a dead one can be told apart. */
export function buildDir(cache: string, key: string): string {
  const dir = join(cache, `.build-${key.slice(0, 16)}-${hostname()}-${process.pid}-${createHash("sha256").update(`${Date.now()}${Math.random()}`).digest("hex").slice(0, 8)}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

function fsyncPath(path: string): void {
  try {
    const fd = openSync(path, "r");
    fsyncSync(fd);
    closeSync(fd);
  } catch {
    // some filesystems refuse fsync on a directory; the rename is still atomic
  }
}

/**
 * Moves a finished build into place as the entry for its key. Its files were synced by their writers; the
 * folder is synced, renamed, and the cache synced. Another process that finished the same entry first
 * wins: this build is dropped and that entry used.
 */
export function commitEntry(cache: string, build: string, manifest: Manifest): CacheEntry {
  for (const name of readdirSync(build)) fsyncPath(join(build, name));
  fsyncPath(build);
  const dir = join(cache, manifest.key);
  try {
    renameSync(build, dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw e;
    rmSync(build, { recursive: true, force: true });
  }
  fsyncPath(cache);
  return entryFiles(dir, JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest);
}

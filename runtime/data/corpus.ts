// Finding the corpus: --data (a file or a directory) > BABYGPT_DATA_DIR > the user cache > a download
// from the public URL. The well-known tinyshakespeare file is checked against its sha256 wherever it is
// found; a download lands in the cache only after the check passes.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync, type Stats } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../../util/write-atomic.js";
import { UserError } from "../errors.js";
import { makeDirs } from "../make-dirs.js";

export const TINYSHAKESPEARE = {
  file: "tinyshakespeare.txt",
  url: "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
  sha256: "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
  characters: 1_115_394,
} as const;

export interface Corpus {
  readonly text: string;
  /** Where it was read from, and how it was found. */
  readonly path: string;
  readonly source: "--data" | "BABYGPT_DATA_DIR" | "cache" | "download" | "the run";
  readonly sha256: string;
  /** Its size in bytes. */
  readonly bytes: number;
}

/** The most a corpus may hold: it is kept in memory as one string (V8 stops near 2^29 characters) and as tokens. */
export const MAX_CORPUS_BYTES = 512 * 2 ** 20;

export function cacheDir(): string {
  const base = process.env["XDG_CACHE_HOME"] || join(homedir(), ".cache");
  return join(base, "babygpt");
}

export interface CorpusOptions {
  /** The --data flag: a corpus file, or a directory holding tinyshakespeare.txt. */
  readonly data?: string | undefined;
  /** Allow downloading when no local copy exists (default true). */
  readonly download?: boolean;
  /** Progress reporting for the download. */
  readonly onProgress?: (received: number, total: number | undefined) => void;
}

export async function loadCorpus(options: CorpusOptions = {}): Promise<Corpus> {
  if (options.data !== undefined) {
    const p = resolve(options.data);
    if (!existsSync(p)) throw new UserError(`--data ${options.data}: no such file or directory`);
    const file = statSync(p).isDirectory() ? join(p, TINYSHAKESPEARE.file) : p;
    if (!existsSync(file)) throw new UserError(`--data ${options.data}: the directory has no ${TINYSHAKESPEARE.file}`);
    return readCorpus(file, "--data", `--data ${options.data}`);
  }
  const envDir = process.env["BABYGPT_DATA_DIR"];
  if (envDir) {
    const file = join(resolve(envDir), TINYSHAKESPEARE.file);
    if (!existsSync(file)) throw new UserError(`BABYGPT_DATA_DIR=${envDir} has no ${TINYSHAKESPEARE.file}`);
    return readCorpus(file, "BABYGPT_DATA_DIR");
  }
  const cached = join(cacheDir(), TINYSHAKESPEARE.file);
  if (existsSync(cached)) return readCorpus(cached, "cache");
  if (options.download === false) throw offline(cached, "downloading is turned off");
  return download(cached, options.onProgress);
}

/** What a path is when it is not a regular file, in words. */
export function notAFile(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isFIFO()) return "a named pipe";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

/**
 * Reads a corpus file. Only regular files of bounded size: a device (/dev/zero) never ends and a named
 * pipe blocks until someone writes, so both are refused before a byte is read.
 */
export function readCorpus(file: string, source: Corpus["source"], label: string = file): Corpus {
  let bytes: Buffer;
  try {
    const st = statSync(file);
    const kind = notAFile(st);
    if (kind) throw new UserError(`${label} is ${kind}, not a regular file; a corpus is read from a file (copy the text into one)`);
    if (st.size > MAX_CORPUS_BYTES) {
      throw new UserError(`${label} is ${(st.size / 2 ** 20).toFixed(0)} MiB, more than the ${MAX_CORPUS_BYTES / 2 ** 20} MiB a corpus may hold (it is kept in memory as text and tokens); use a part of it`);
    }
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (file.endsWith(TINYSHAKESPEARE.file) && sha256 !== TINYSHAKESPEARE.sha256) {
    throw new UserError(`${file} is not the expected tinyshakespeare text (sha256 ${sha256}, expected ${TINYSHAKESPEARE.sha256}); replace it with the original`);
  }
  return { text: decodeText(bytes, file), path: file, source, sha256, bytes: bytes.length };
}

/** UTF-8 text, or a clear error for empty, binary and non-UTF-8 files. */
export function decodeText(bytes: Uint8Array, file: string): string {
  if (bytes.length === 0) throw new UserError(`${file} is empty; a corpus needs text to learn from`);
  if (bytes.includes(0)) throw new UserError(`${file} looks binary (it contains NUL bytes); a corpus must be UTF-8 text`);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new UserError(`${file} is not valid UTF-8 (first bad byte at offset ${at}); convert it, e.g. with iconv -t UTF-8`);
  }
}

/** The offset of the first byte that is not valid UTF-8 (of bytes that fail to decode). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let lo = 0;
  let hi = bytes.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    try {
      decoder.decode(bytes.subarray(0, mid));
      lo = mid;
    } catch {
      hi = mid;
    }
  }
  return lo;
}

async function download(target: string, onProgress?: CorpusOptions["onProgress"]): Promise<Corpus> {
  let bytes: Uint8Array;
  try {
    const response = await fetch(TINYSHAKESPEARE.url, { signal: AbortSignal.timeout(60_000) });
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
    const total = Number(response.headers.get("content-length")) || undefined;
    const chunks: Uint8Array[] = [];
    let received = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      chunks.push(chunk);
      received += chunk.length;
      onProgress?.(received, total);
    }
    bytes = Buffer.concat(chunks);
  } catch (e) {
    const reason = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
    throw offline(target, `the download from ${TINYSHAKESPEARE.url} failed (${reason})`);
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (sha256 !== TINYSHAKESPEARE.sha256) {
    throw new UserError(`the downloaded corpus has sha256 ${sha256}, expected ${TINYSHAKESPEARE.sha256}; nothing was saved`);
  }
  makeDirs(cacheDir(), { label: "the corpus cache" });
  writeFileAtomic(target, bytes);
  return { text: decodeText(bytes, target), path: target, source: "download", sha256, bytes: bytes.length };
}

function offline(cached: string, why: string): UserError {
  return new UserError(
    `no corpus found and ${why}.\n` +
      `Get ${TINYSHAKESPEARE.file} (${TINYSHAKESPEARE.url}, sha256 ${TINYSHAKESPEARE.sha256}) and either\n` +
      `  pass --data DIR (a directory holding ${TINYSHAKESPEARE.file}, or the file itself),\n` +
      `  set BABYGPT_DATA_DIR=DIR, or\n` +
      `  copy it to ${cached}`,
  );
}

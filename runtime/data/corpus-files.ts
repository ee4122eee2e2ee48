// What --data names, as a list of files, each a document or (.jsonl) a file of documents: a file, a
// directory (every text file under it, in path order; a directory holding tinyshakespeare.txt means that
// file, as it always has), or a glob (`data/*.jsonl.gz`, `books/**/*.txt`). Without --data: the default
// corpus (runtime/data/corpus.ts). Only regular files: a device never ends and a named pipe blocks.
import { readdirSync, statSync, type Stats } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { UserError } from "../errors.js";
import { loadCorpus, notAFile, TINYSHAKESPEARE, type Corpus } from "./corpus.js";

export type FileFormat = "text" | "jsonl";

export interface CorpusFile {
  readonly path: string;
  readonly format: FileFormat;
  readonly gzip: boolean;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

export interface CorpusFiles {
  /** What the user named (absolute), or the default corpus's file. */
  readonly label: string;
  readonly source: Corpus["source"];
  /** The files with text, in order. */
  readonly files: readonly CorpusFile[];
  /** Empty files that were skipped. */
  readonly empty: readonly string[];
}

/** Names a directory's walk takes as text: plain text, JSON lines, and either gzip-compressed. */
const TEXT_NAME = /\.(txt|text|md|jsonl)(\.gz)?$/i;
const GLOB = /[*?[]/;

export function fileFormat(path: string): { format: FileFormat; gzip: boolean } {
  const gzip = /\.gz$/i.test(path);
  const inner = gzip ? path.slice(0, -3) : path;
  return { format: /\.jsonl$/i.test(inner) ? "jsonl" : "text", gzip };
}

function corpusFile(path: string, st: Stats): CorpusFile {
  return { path, ...fileFormat(path), size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
}

export interface FindOptions {
  readonly data?: string | undefined;
  readonly download?: boolean;
}

export async function findCorpusFiles(options: FindOptions): Promise<CorpusFiles> {
  if (options.data === undefined) {
    const corpus = await loadCorpus(options.download === false ? { download: false } : {});
    return { label: corpus.path, source: corpus.source, files: [corpusFile(corpus.path, statSync(corpus.path))], empty: [] };
  }
  const flag = `--data ${options.data}`;
  const path = resolve(options.data);
  let st: Stats | undefined;
  try {
    st = statSync(path);
  } catch {
    st = undefined;
  }
  let found: { path: string; st: Stats }[];
  if (st === undefined) {
    if (!GLOB.test(options.data)) throw new UserError(`${flag}: no such file or directory`);
    found = expandGlob(path);
    if (found.length === 0) throw new UserError(`${flag}: no file matches`);
  } else if (st.isDirectory()) {
    const own = join(path, TINYSHAKESPEARE.file);
    const shakespeare = statOrUndefined(own);
    found = shakespeare?.isFile() ? [{ path: own, st: shakespeare }] : walk(path).filter((f) => TEXT_NAME.test(f.path));
    if (found.length === 0) throw new UserError(`${flag}: the directory has no text files (.txt, .md or .jsonl, or any of them gzip-compressed)`);
  } else {
    const kind = notAFile(st);
    if (kind) throw new UserError(`${flag} is ${kind}, not a regular file; a corpus is read from a file (copy the text into one)`);
    found = [{ path, st }];
  }
  const files = found.filter((f) => f.st.size > 0).map((f) => corpusFile(f.path, f.st));
  const empty = found.filter((f) => f.st.size === 0).map((f) => f.path);
  if (files.length === 0) {
    throw new UserError(found.length === 1 ? `${found[0]!.path} is empty; a corpus needs text to learn from` : `${flag}: all ${found.length} files are empty; a corpus needs text to learn from`);
  }
  return { label: path, source: "--data", files, empty };
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Every regular file under `dir`, in path order (links followed; what cannot be read is left out). */
function walk(dir: string): { path: string; st: Stats }[] {
  const out: { path: string; st: Stats }[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const name of names) {
    const p = join(dir, name);
    const st = statOrUndefined(p);
    if (st?.isDirectory()) out.push(...walk(p));
    else if (st?.isFile()) out.push({ path: p, st });
  }
  return out;
}

/** A glob segment as a regular expression: * and ? within a name, [...] a class. */
function segmentRegex(segment: string): RegExp {
  let re = "";
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = segment.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        re += `[${segment.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** The regular files an absolute glob matches (`**` is any number of folders), in path order. */
function expandGlob(pattern: string): { path: string; st: Stats }[] {
  const parts = pattern.split(sep).filter((p, i) => p !== "" || i === 0);
  let fixed = 0;
  while (fixed < parts.length && !GLOB.test(parts[fixed]!)) fixed++;
  const base = parts.slice(0, fixed).join(sep) || sep;
  const rest = parts.slice(fixed);
  const files = walk(isAbsolute(base) ? base : resolve(base));
  const matchers = rest.map((p) => (p === "**" ? "**" : segmentRegex(p)));
  const matches = (names: readonly string[], m: number, n: number): boolean => {
    if (m === matchers.length) return n === names.length;
    const here = matchers[m]!;
    if (here === "**") {
      for (let k = n; k <= names.length; k++) if (matches(names, m + 1, k)) return true;
      return false;
    }
    return n < names.length && here.test(names[n]!) && matches(names, m + 1, n + 1);
  };
  return files.filter((f) => matches(relative(base, f.path).split(sep), 0, 0));
}

// A run remembers the corpus it was trained on (path, size, sha256 in meta.json; for several files, what
// --data named and the hash of their hashes), and evaluating or resuming it uses that corpus unless told
// otherwise: a loss on other text is a different number, and a resumed run on other text is not the run
// it continues. The files' hashes come from the token cache's index (runtime/data/file-hashes.ts), so
// checking a corpus of gigabytes costs a stat per file.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { canonicalJson } from "../../util/hash.js";
import { UserError } from "../errors.js";
import { findCorpusFiles, type CorpusFiles } from "./corpus-files.js";
import { loadCorpus, TINYSHAKESPEARE } from "./corpus.js";
import { fileHashes, type HashProgress } from "./file-hashes.js";
import { tokenCacheDir } from "./token-cache.js";
import type { CorpusRecord } from "./corpus-record.js";

export type { CorpusRecord };

export const OTHER_DATA_FLAG = "--other-data";

/** The fields of a record (a corpus read into memory has more). */
export function corpusRecord(corpus: CorpusRecord): CorpusRecord {
  const { path, bytes, sha256, files, textField } = corpus;
  return { path, bytes, sha256, ...(files !== undefined ? { files } : {}), ...(textField !== undefined ? { textField } : {}) };
}

/** The record of a corpus's files: one file as before (its path, size, sha256); several as one. */
export function describeCorpus(files: CorpusFiles, hashes: readonly string[], textField: string): CorpusRecord {
  const jsonl = files.files.some((f) => f.format === "jsonl");
  const bytes = files.files.reduce((n, f) => n + f.size, 0);
  if (files.files.length === 1) {
    const one = { path: files.files[0]!.path, bytes, sha256: hashes[0]! };
    return jsonl ? { ...one, textField } : one;
  }
  const sha256 = createHash("sha256").update(canonicalJson(files.files.map((f, i) => [hashes[i], f.format, f.gzip]))).digest("hex");
  return { path: files.label, bytes, sha256, files: files.files.length, ...(jsonl ? { textField } : {}) };
}

export interface LocatedCorpus {
  readonly files: CorpusFiles;
  readonly hashes: readonly string[];
  readonly record: CorpusRecord;
}

/** The files --data names (or the default corpus), their hashes and the record a run keeps. */
export async function locateCorpus(options: { data?: string | undefined; textField?: string | undefined; download?: boolean; onHash?: HashProgress; onChanged?: (path: string, was: string, now: string) => void }): Promise<LocatedCorpus> {
  const files = await findCorpusFiles({ data: options.data, ...(options.download === false ? { download: false } : {}) });
  const hashes = await fileHashes(tokenCacheDir(), files.files, options.onHash, options.onChanged);
  return { files, hashes, record: describeCorpus(files, hashes, options.textField ?? "text") };
}

const short = (sha: string): string => `${sha.slice(0, 12)}…`;

export interface RunCorpusOptions {
  /** The --data flag. */
  readonly data?: string | undefined;
  /** --other-data: a --data that differs from the run's corpus is what the user wants. */
  readonly otherData?: boolean | undefined;
  /** --text-field, for .jsonl files (default: the run's own). */
  readonly textField?: string | undefined;
}

export interface RunCorpus {
  /** What to prepare: a --data value (undefined: the default corpus). */
  readonly data: string | undefined;
  readonly textField: string | undefined;
  readonly record: CorpusRecord;
  readonly note?: string;
}

/**
 * The corpus to evaluate or resume `runDir` with: --data if it is the run's own corpus (or --other-data
 * says to use it anyway), else the recorded one, found again by its sha256 if it has moved. `note` says
 * what was chosen when it is worth a line.
 */
export async function corpusForRun(runDir: string, recorded: CorpusRecord | undefined, options: RunCorpusOptions): Promise<RunCorpus> {
  const textField = options.textField ?? recorded?.textField;
  if (options.data !== undefined) {
    const { record } = await locateCorpus({ data: options.data, textField });
    const chosen = { data: options.data, textField, record };
    if (recorded === undefined || record.sha256 === recorded.sha256) return chosen;
    if (options.otherData) return { ...chosen, note: `using --data ${options.data} (sha256 ${short(record.sha256)}), not the corpus ${runDir} was trained on (${recorded.path}), as ${OTHER_DATA_FLAG} asks` };
    throw new UserError(
      `--data ${options.data} (sha256 ${short(record.sha256)}) is not the corpus ${runDir} was trained on (${recorded.path}, ${recorded.bytes.toLocaleString("en-US")} bytes, sha256 ${short(recorded.sha256)}); leave --data out to use that one, or add ${OTHER_DATA_FLAG} to use this one anyway`,
    );
  }
  if (recorded === undefined) {
    const { record } = await locateCorpus({});
    return { data: undefined, textField, record, note: `${runDir} does not record its corpus (an older run); using ${record.path}` };
  }
  let why = "is gone";
  if (existsSync(recorded.path) || /[*?[]/.test(recorded.path)) {
    try {
      const { record } = await locateCorpus({ data: recorded.path, textField });
      if (record.sha256 === recorded.sha256) return { data: recorded.path, textField, record };
      why = `has changed since (sha256 ${short(record.sha256)} now)`;
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      why = `cannot be read now (${e.message})`;
    }
  }
  // The same text may be found where babygpt looks by default (another machine, a moved checkout).
  if (recorded.sha256 === TINYSHAKESPEARE.sha256) {
    try {
      const corpus = await loadCorpus({ download: false });
      if (corpus.sha256 === recorded.sha256) return { data: corpus.path, textField, record: corpusRecord(corpus), note: `${recorded.path} ${why}; using the same text at ${corpus.path}` };
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
    }
  }
  throw new UserError(`${runDir} was trained on ${recorded.path} (${recorded.bytes.toLocaleString("en-US")} bytes, sha256 ${short(recorded.sha256)}), which ${why}; pass --data with that text, or --data OTHER ${OTHER_DATA_FLAG} to use another`);
}

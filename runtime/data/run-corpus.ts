// A run remembers the corpus it was trained on (path, size, sha256 in meta.json), and evaluating or
// resuming it uses that corpus unless told otherwise: a loss on other text is a different number, and a
// resumed run on other text is not the run it continues.
import { existsSync } from "node:fs";
import { UserError } from "../errors.js";
import { loadCorpus, readCorpus, TINYSHAKESPEARE, type Corpus } from "./corpus.js";

export interface CorpusRecord {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

export const OTHER_DATA_FLAG = "--other-data";

export function corpusRecord(corpus: Corpus): CorpusRecord {
  return { path: corpus.path, bytes: corpus.bytes, sha256: corpus.sha256 };
}

const short = (sha: string): string => `${sha.slice(0, 12)}…`;

export interface RunCorpusOptions {
  /** The --data flag. */
  readonly data?: string | undefined;
  /** --other-data: a --data that differs from the run's corpus is what the user wants. */
  readonly otherData?: boolean | undefined;
}

/**
 * The corpus to evaluate or resume `runDir` with: --data if it is the run's own corpus (or --other-data
 * says to use it anyway), else the recorded file, found again by its sha256 if it has moved. `note` says
 * what was chosen when it is worth a line.
 */
export async function corpusForRun(runDir: string, recorded: CorpusRecord | undefined, options: RunCorpusOptions): Promise<{ corpus: Corpus; note?: string }> {
  if (options.data !== undefined) {
    const corpus = await loadCorpus({ data: options.data });
    if (recorded === undefined || corpus.sha256 === recorded.sha256) return { corpus };
    if (options.otherData) return { corpus, note: `using --data ${options.data} (sha256 ${short(corpus.sha256)}), not the corpus ${runDir} was trained on (${recorded.path}), as ${OTHER_DATA_FLAG} asks` };
    throw new UserError(
      `--data ${options.data} (sha256 ${short(corpus.sha256)}) is not the corpus ${runDir} was trained on (${recorded.path}, ${recorded.bytes.toLocaleString("en-US")} bytes, sha256 ${short(recorded.sha256)}); leave --data out to use that one, or add ${OTHER_DATA_FLAG} to use this one anyway`,
    );
  }
  if (recorded === undefined) {
    const corpus = await loadCorpus();
    return { corpus, note: `${runDir} does not record its corpus (an older run); using ${corpus.path}` };
  }
  let why = "is gone";
  if (existsSync(recorded.path)) {
    const corpus = readCorpus(recorded.path, "the run");
    if (corpus.sha256 === recorded.sha256) return { corpus };
    why = `has changed since (sha256 ${short(corpus.sha256)} now)`;
  }
  // The same text may be found where babygpt looks by default (another machine, a moved checkout).
  if (recorded.sha256 === TINYSHAKESPEARE.sha256) {
    try {
      const corpus = await loadCorpus({ download: false });
      if (corpus.sha256 === recorded.sha256) return { corpus, note: `${recorded.path} ${why}; using the same text at ${corpus.path}` };
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
    }
  }
  throw new UserError(`${runDir} was trained on ${recorded.path} (${recorded.bytes.toLocaleString("en-US")} bytes, sha256 ${short(recorded.sha256)}), which ${why}; pass --data with that text, or --data OTHER ${OTHER_DATA_FLAG} to use another`);
}

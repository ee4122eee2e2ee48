// What a run (meta.json) and a token cache entry (manifest.json) record of the corpus they were made from.

export interface CorpusRecord {
  /** The file, or what --data named (a directory, a glob) for several. */
  readonly path: string;
  readonly bytes: number;
  /** The file's sha256, or for several files the sha256 of their hashes and formats, in order. */
  readonly sha256: string;
  /** How many files, where there are several. */
  readonly files?: number;
  /** The field of a .jsonl line that holds its text, where the corpus has .jsonl files. */
  readonly textField?: string;
}

// The zoo's results file (docs/zoo.json): what `babygpt zoo` measured, from which docs/zoo.md and its chart
// are rendered (`babygpt zoo --render FILE` renders them again without training). No Node imports beyond
// reading the file, so the report is a pure function of it.
import { readFileSync } from "node:fs";
import { UserError } from "../errors.js";

/** The results file's first key and value: how a file this command may replace is recognized. */
export const ZOO_FORMAT = "babygpt zoo results 1";

export interface ZooEntry {
  /** The command that trained it (absent in results files from before entries recorded it: the file's). */
  readonly command?: string;
  readonly name: string;
  /** The spec file, relative to the project root. */
  readonly spec: string;
  readonly description: string;
  /** The spec's lines that its baseline's do not have (see distinctive.ts), and that baseline. */
  readonly distinctive: readonly string[];
  readonly baseline: string;
  readonly params: number;
  readonly flopsPerToken: number;
  readonly iters: number;
  readonly tokensPerSec: number;
  readonly msPerIter: number;
  readonly wallSeconds: number;
  /** The last estimates (eval_iters batches) and the exact val loss (every val token once). */
  readonly trainLoss: number;
  readonly valLoss: number;
  readonly curve: readonly { readonly step: number; readonly train: number; readonly val: number }[];
  readonly sample: string;
  /** The machine's 1-minute load average when its training started and when it ended. */
  readonly load: { readonly start: number; readonly end: number };
  /** When and where it trained (an entry kept from an earlier results file keeps its own). */
  readonly date: string;
  readonly machine: string;
  /** The sha256 of the spec's files (the spec, then what it extends): an entry is kept only while they are unchanged. */
  readonly specSha256: string;
}

export interface ZooResults {
  readonly format: typeof ZOO_FORMAT;
  /** The command that wrote the file (each entry records the one that trained it). */
  readonly command: string;
  readonly date: string;
  /** CPU model and cores. */
  readonly machine: string;
  readonly cores: number;
  readonly backend: string;
  /** The one budget every architecture trained at. */
  readonly budget: { readonly iters: number; readonly batchSize: number; readonly blockSize: number; readonly optimizer: string; readonly schedule: string };
  readonly entries: readonly ZooEntry[];
}

/** Reads a results file, refusing in one line one that is not (a typo'd path, another JSON). */
export function readZooResults(file: string): ZooResults {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UserError(`${file}: ${err.code === "ENOENT" ? "no such file" : err.code === "EISDIR" ? "is a directory" : `not a zoo results file (${err.message.split("\n")[0]})`}`);
  }
  const r = parsed as Partial<ZooResults> | null;
  if (r === null || typeof r !== "object" || r.format !== ZOO_FORMAT || !Array.isArray(r.entries) || typeof r.budget !== "object") {
    throw new UserError(`${file}: not a zoo results file (it has no "format": "${ZOO_FORMAT}"); \`babygpt zoo\` writes one`);
  }
  return r as ZooResults;
}

// metrics.jsonl: one JSON record per line, appended while training (a line per eval, one every few steps).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors.js";

export interface MetricsRecord {
  readonly type: "train" | "eval" | "nan" | "exact";
  readonly step: number;
  readonly loss?: number;
  /** On train records of models whose layers add to the training loss (experts' load balancing): that term, apart from loss. */
  readonly aux_loss?: number;
  readonly lr?: number;
  readonly train_loss?: number;
  readonly val_loss?: number;
}

/**
 * The records of a run, as the training that produced its checkpoint saw them. A run that crashed and
 * was resumed has logged the steps after its last checkpoint twice; the resumed lines win: a record
 * whose step is not past the last one of its type replaces every earlier record of that type from its
 * step on. Lines cut short by a crash are skipped.
 */
export function readMetrics(runDir: string): MetricsRecord[] {
  const path = join(runDir, "metrics.jsonl");
  if (!existsSync(path)) throw new UserError(`${runDir} has no metrics.jsonl`);
  const records: MetricsRecord[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    let record: MetricsRecord;
    try {
      record = JSON.parse(line) as MetricsRecord;
    } catch {
      continue; // a line cut short by a crash
    }
    const last = records.findLast((r) => r.type === record.type);
    if (last !== undefined && record.step <= last.step) {
      const kept = records.filter((r) => r.type !== record.type || r.step < record.step);
      records.length = 0;
      records.push(...kept);
    }
    records.push(record);
  }
  return records;
}

// metrics.jsonl: one JSON record per line, appended while training (a line per eval, one every few steps).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors.js";

export interface MetricsRecord {
  readonly type: "train" | "eval" | "nan";
  readonly step: number;
  readonly loss?: number;
  readonly lr?: number;
  readonly train_loss?: number;
  readonly val_loss?: number;
}

export function readMetrics(runDir: string): MetricsRecord[] {
  const path = join(runDir, "metrics.jsonl");
  if (!existsSync(path)) throw new UserError(`${runDir} has no metrics.jsonl`);
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as MetricsRecord];
      } catch {
        return []; // a line cut short by a crash
      }
    });
}

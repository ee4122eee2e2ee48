// Running one part of the kit in a process of its own, with a time limit: the part's JSON lines as they
// come, and at the limit SIGTERM (a torch part then stops its ranks after their step, with a checkpoint)
// and SIGKILL a few seconds later (Dawn stuck in a driver call hears no signal). In the kit a part is
// <kit>/app/<name>.mjs; in a checkout the same part runs from its TypeScript source through tsx.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../runtime/paths.js";
import type { PartRecord } from "./lines.js";

/** The sources of the parts, by the name of their bundle in <kit>/app. */
const SOURCES = {
  adapter: "kit/measure/adapter.ts",
  "webgpu-steps": "kit/measure/webgpu-steps.ts",
  "webgpu-kernels": "bench/webgpu-kernels.ts",
  "torch-run": "kit/measure/torch-run.ts",
} as const;
export type PartName = keyof typeof SOURCES;

/** Node's arguments that start a part: its bundle in the kit, its source (through tsx) in a checkout. */
export function partCommand(name: PartName): string[] {
  const bundled = join(PROJECT_ROOT, "app", `${name}.mjs`);
  return existsSync(bundled) ? [bundled] : ["--import", "tsx", join(PROJECT_ROOT, SOURCES[name])];
}

export interface PartRun {
  readonly records: readonly PartRecord[];
  readonly exit: "ok" | "failed" | "timeout";
  readonly seconds: number;
  /** Why it failed, in one line: its "error" line, else the last line it wrote on stderr, else its exit. */
  readonly why?: string;
}

/** Seconds between SIGTERM and SIGKILL: a caller's budget keeps this much beyond a part's limit. */
export const GRACE = 15;

/** Runs a part for at most `seconds` (then the grace), calling `onRecord` for every line as it arrives. */
export function runPart(name: PartName, args: readonly string[], seconds: number, onRecord: (r: PartRecord) => void = () => {}): Promise<PartRun> {
  const began = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...partCommand(name), ...args], { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const records: PartRecord[] = [];
    let stderr = "";
    let buffered = "";
    let timedOut = false;
    const term = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
    }, seconds * 1000);
    const kill = setTimeout(() => child.kill("SIGKILL"), (seconds + GRACE) * 1000);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line.startsWith("{")) continue;
        try {
          const r = JSON.parse(line) as PartRecord;
          records.push(r);
          onRecord(r);
        } catch {
          // not one of ours: a library's output
        }
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-16_000)));
    const finish = (exit: PartRun["exit"], why?: string): void => {
      clearTimeout(term);
      clearTimeout(kill);
      const run = { records, exit, seconds: (performance.now() - began) / 1000 };
      resolve(why === undefined ? run : { ...run, why });
    };
    child.on("error", (e) => finish("failed", `${process.execPath} did not start: ${e.message}`));
    child.on("close", (code, signal) => {
      const error = records.find((r) => r.type === "error")?.["reason"];
      if (timedOut) return finish("timeout", `stopped at its limit of ${Math.round(seconds)} s`);
      if (code === 0) return finish("ok");
      const said = typeof error === "string" ? error : lastLine(stderr);
      finish("failed", said || (signal ? `killed by ${signal}` : `exit code ${code}`));
    });
  });
}

/** The last line of stderr worth showing: not Dawn's "Warning:" lines, not a stack frame. */
export function lastLine(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("Warning:") && !l.startsWith("at ") && l !== "^");
  // An uncaught error prints its message above its stack: prefer that line.
  return lines.find((l) => /^(\w*Error|error)\b|^Error:/.test(l)) ?? lines.at(-1) ?? "";
}

// What went wrong in a torchrun job, in one line, from torchrun's error report: which rank died and how
// (its exit code or signal), and the exception a Python rank raised, when one did.
import { constants } from "node:os";

const SIGNALS = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name]));

export function failureSummary(stderr: string, code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `torchrun was killed by ${signal}`;
  // torchrun's "Root Cause (first observed failure)" block names the rank that failed first.
  const root = stderr.slice(Math.max(0, stderr.lastIndexOf("Root Cause")));
  const rank = /rank\s*:\s*(\d+)/.exec(root)?.[1];
  const exit = /exitcode\s*:\s*(-?\d+)/.exec(root)?.[1];
  const exception = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^[A-Za-z_.]*(Error|Exception|Interrupt)(: |$)/.test(l) && !/ChildFailedError/.test(l))
    .pop();
  if (rank !== undefined && exit !== undefined) {
    const n = Number(exit);
    const how = n < 0 ? `was killed by ${SIGNALS.get(-n) ?? `signal ${-n}`}` : `exited with code ${n}`;
    return `rank ${rank} ${how}${exception ? ` (${exception})` : ""}`;
  }
  if (exception) return exception;
  const last = stderr.trim().split("\n").pop()?.trim();
  return `torchrun exited with code ${code}${last ? ` (${last})` : ""}`;
}

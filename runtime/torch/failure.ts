// What went wrong in a torchrun job, in one line, from torchrun's error report: which rank died and how
// (its exit code or signal), and the exception a Python rank raised, when one did.
import { constants } from "node:os";

const SIGNALS = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name]));

interface RankFailure {
  readonly rank: string;
  readonly exit: number;
}

/** The ranks torchrun's error report lists (its "Failures:" and "Root Cause" blocks), the root cause first. */
function listedFailures(stderr: string): RankFailure[] {
  const report = stderr.slice(Math.max(0, stderr.lastIndexOf("Failures:")));
  const rootAt = report.lastIndexOf("Root Cause");
  const parse = (text: string): RankFailure[] =>
    [...text.matchAll(/rank\s*:\s*(\d+)[\s\S]*?exitcode\s*:\s*(-?\d+)/g)].map((m) => ({ rank: m[1]!, exit: Number(m[2]) }));
  const root = rootAt >= 0 ? parse(report.slice(rootAt)) : [];
  return [...root, ...parse(rootAt >= 0 ? report.slice(0, rootAt) : report)];
}

export function failureSummary(stderr: string, code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `torchrun was killed by ${signal}`;
  // torchrun's "Root Cause (first observed failure)" names the rank it noticed first. A rank killed by a
  // signal (the kernel's OOM killer, a kill) takes its peers down with it, and one of them, failing on the
  // lost connection, can be noticed first: the killed rank is the cause, and is named.
  const failures = listedFailures(stderr);
  const named = failures.find((f) => f.exit < 0) ?? failures[0];
  const exception = stderr
    .split("\n")
    // (torchrun --tee prefixes each rank's line with its name, "[default0]:")
    .map((l) => l.replace(/^\[[^\]]*\]:/, "").trim())
    .filter((l) => /^[A-Za-z_.]*(Error|Exception|Interrupt)(: |$)/.test(l) && !/ChildFailedError/.test(l))
    .pop();
  if (named !== undefined) {
    // (a rank killed by a signal raised nothing: an exception in the output is a peer's)
    if (named.exit < 0) return `rank ${named.rank} was killed by ${SIGNALS.get(-named.exit) ?? `signal ${-named.exit}`}`;
    return `rank ${named.rank} exited with code ${named.exit}${exception ? ` (${exception})` : ""}`;
  }
  if (exception) return exception;
  const last = stderr.trim().split("\n").pop()?.trim();
  return `torchrun exited with code ${code}${last ? ` (${last})` : ""}`;
}

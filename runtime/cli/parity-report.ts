// `babygpt parity`'s table as text: the worst relative error of each kind of check against its tolerance,
// and with `verbose` every parameter's gradient and every optimizer's losses. Pure: the command prints it.
import type { ParityResult } from "../parity/check.js";
import { formatTolerance as tol, worstByKind, type CheckRow } from "../parity/compare.js";
import { PARITY_TOLERANCES, type ParityKind } from "../parity/tolerances.js";
import { table } from "../../util/format.js";

const exp = (n: number): string => (Number.isNaN(n) ? "missing" : n === 0 ? "0" : n.toExponential(1));

/** The row's label in the table of worst errors. */
function kindLabel(kind: ParityKind, count: number, steps: number): string {
  switch (kind) {
    case "logits":
      return "logits";
    case "loss":
      return "loss";
    case "grad":
      return `gradients (${count} parameter${count === 1 ? "" : "s"})`;
    case "steps":
      return `losses over ${steps} steps (${count} optimizer${count === 1 ? "" : "s"})`;
  }
}

/** "1e-5", or "1e-12 (tests: 1e-5)" where --tolerance changed it. */
const tolerance = (row: CheckRow): string => (row.tolerance === PARITY_TOLERANCES[row.kind] ? tol(row.tolerance) : `${tol(row.tolerance)} (tests: ${tol(PARITY_TOLERANCES[row.kind])})`);

export function parityReport(result: ParityResult, options: { readonly steps: number; readonly verbose: boolean }): string {
  const worst = worstByKind(result.rows);
  const lines = [
    table(
      ["check", "worst relative error", "tolerance", "", "worst at"],
      worst.map((w) => [kindLabel(w.kind, w.count, options.steps), exp(w.worst.error), tolerance(w.worst), w.worst.ok ? "ok" : "FAIL", w.count > 1 ? w.worst.name : ""]),
      ["l", "r", "r", "l", "l"],
    ),
  ];
  if (options.verbose) {
    const grads = result.rows.filter((r) => r.kind === "grad");
    lines.push("", table(["parameter", "gradient's relative error", ""], grads.map((r) => [r.name, exp(r.error), r.ok ? "ok" : "FAIL"]), ["l", "r", "l"]));
    const steps = [...result.ours.stepLosses];
    if (steps.length > 0) {
      const rows = result.rows.filter((r) => r.kind === "steps");
      lines.push(
        "",
        table(
          ["optimizer", "babygpt's losses", "relative error", ""],
          steps.map(([type, losses]) => {
            const row = rows.find((r) => r.name === type);
            return [type, Array.from(losses, (l) => l.toFixed(5)).join(" "), exp(row?.error ?? Number.NaN), row?.ok ? "ok" : "FAIL"];
          }),
          ["l", "l", "r", "l"],
        ),
      );
    }
  }
  return lines.join("\n");
}

// A located error: what is wrong and where, printed like tsc prints (file:line:col: message, the line, a caret).

/** A position in a spec file (1-based line and column), or on the command line for `--set`. */
export type Loc =
  | {
      readonly kind: "file";
      readonly file: string;
      readonly line: number;
      readonly col: number;
      readonly lineText: string;
      /** How the position was reached, when not directly: "in my_block, used at a.yaml:12:7" (define). */
      readonly via?: string;
    }
  | { readonly kind: "cli"; readonly arg: string };

export interface Diagnostic {
  readonly loc: Loc;
  readonly message: string;
}

/** Thrown by every compiler stage for bad input; the CLI prints its diagnostics and exits 2. */
export class SpecError extends Error {
  readonly diagnostics: readonly Diagnostic[];
  constructor(diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
    this.name = "SpecError";
    this.diagnostics = diagnostics;
  }
}

export function fail(loc: Loc, message: string): never {
  throw new SpecError([{ loc, message }]);
}

export function locHeader(loc: Loc): string {
  return loc.kind === "file" ? `${loc.file}:${loc.line}:${loc.col}` : loc.arg;
}

/** `file:line:col: message`, then the offending line and a caret under the column. */
export function formatDiagnostic(d: Diagnostic): string {
  const head = `${locHeader(d.loc)}: ${d.message}${d.loc.kind === "file" && d.loc.via ? ` (${d.loc.via})` : ""}`;
  if (d.loc.kind !== "file") return head;
  const caret = " ".repeat(Math.max(0, d.loc.col - 1)) + "^";
  return `${head}\n  ${d.loc.lineText}\n  ${caret}`;
}

/** A warning, as tsc prints one: `file:line:col: warning: message`, the line and a caret. */
export function formatWarning(d: Diagnostic): string {
  const [head, ...rest] = formatDiagnostic(d).split("\n");
  const at = locHeader(d.loc);
  return [`${at}: warning: ${head!.slice(at.length + 2)}`, ...rest].join("\n");
}

// What an op of the catalogue is: a name the module tree calls it by, and how each target spells a call
// of it. Builders say which op runs; the serializers ask the op how to write it. An op whose Python
// spelling calls a function of the generated module names that function's definition (a PyHelper), which
// the Python serializer writes once into the file.
import type { Expr, OpArg, OpAttr } from "../nodes.js";

/** An argument spelled in TypeScript. */
export type TsArgs = Readonly<Record<string, string | readonly string[] | OpAttr>>;

/** Python operator precedence, as far as the spellings need it: higher binds tighter. */
export const PREC = { atom: 100, power: 90, product: 70, sum: 60, lowest: 0 } as const;

/** An expression spelled in Python, with the precedence of its outermost operator. */
export interface PyText {
  readonly text: string;
  readonly prec: number;
  /** The expression it spells, for spellings that depend on what it is (a transpose is not contiguous). */
  readonly expr: Expr;
  /** The text, parenthesized when it binds less tightly than `min`. */
  at(min: number): string;
}

export type PyArgs = Readonly<Record<string, PyText | readonly PyText[] | OpAttr>>;

/** A module-level definition of the generated Python module, written once when an op needs it. */
export interface PyHelper {
  readonly name: string;
  /** Where it goes among the others: helpers a helper calls come first. */
  readonly order: number;
  readonly text: string;
  /** Helpers its text calls. */
  readonly uses?: readonly PyHelper[];
  /**
   * Of two definitions of one name (a plain and a fuller form), the file gets the one of higher rank,
   * which serves the calls of both (the fuller form's extra parameters have defaults).
   */
  readonly rank?: number;
}

export interface OpDef {
  readonly name: string;
  /** The names of runtime/nn its TypeScript spelling may use: a file imports those its code does use. */
  readonly tsNames: readonly string[];
  /** The call in TypeScript. */
  ts(a: TsArgs): string;
  /** The call in Python: text (a call, which binds tightest) or text with its precedence. */
  py(a: PyArgs): string | { readonly text: string; readonly prec: number };
  /** The module-level Python definitions the spelling calls (which may depend on the call's arguments). */
  readonly pyHelpers?: readonly PyHelper[] | ((a: Readonly<Record<string, OpArg>>) => readonly PyHelper[]);
}

/** A Python argument that must be spelled (not an attr), for spellings that take one. */
export function pyText(a: PyArgs, name: string): PyText {
  const t = a[name];
  if (t === undefined || typeof t !== "object" || Array.isArray(t)) throw new Error(`op argument ${name} is not an expression`);
  return t as PyText;
}

/** A spelled TypeScript argument that must be there. */
export function tsText(a: TsArgs, name: string): string {
  const t = a[name];
  if (typeof t !== "string") throw new Error(`op argument ${name} is not an expression`);
  return t;
}

// Expressions and statements of the module tree in TypeScript, against runtime/nn: fields are `this.x`,
// a module's forward is `.forward(…)`, sizes are `config.nEmbd`, ops are spelled by the catalogue.
import type { Expr, OpArg, Stmt } from "../../tree/nodes.js";
import { opDef, type TsArgs } from "../../tree/ops/index.js";
import { tsLineComment } from "../../text/typescript.js";
import { wrap } from "./format.js";

/** snake_case → camelCase: head_size → headSize. */
export function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A number literal as a reader expects it: 0.2, 1e-5, 3e-4. */
export function tsNum(n: number): string {
  return Math.abs(n) > 0 && Math.abs(n) < 1e-3 ? n.toExponential() : String(n);
}

/** Where code is spelled: the model class (which has this.vocabSize), or a helper class. */
export interface TsScope {
  readonly model: boolean;
  /** Constructor parameters arrive as one object `o` (more than two), else by name. */
  readonly paramObject: boolean;
}

/** Binding strength of TypeScript's arithmetic, for the parentheses arith needs. */
const ARITH_PREC = { "*": 2, "**": 3 } as const;

function precOf(e: Expr): number {
  return e.kind === "arith" ? ARITH_PREC[e.op] : 10;
}

export function spellExpr(e: Expr, scope: TsScope): string {
  switch (e.kind) {
    case "var":
      return e.name;
    case "field":
      return `this.${camel(e.name)}`;
    case "param":
      return scope.paramObject ? `o.${camel(e.name)}` : camel(e.name);
    case "config":
      return `config.${camel(e.slot.name)}`;
    case "vocab":
      return scope.model ? "this.vocabSize" : "vocabSize";
    case "past":
      return "cache?.past";
    case "num":
      return tsNum(e.value);
    case "arith": {
      const p = ARITH_PREC[e.op];
      const side = (x: Expr, min: number): string => (precOf(x) < min ? `(${spellExpr(x, scope)})` : spellExpr(x, scope));
      return `${side(e.left, e.op === "**" ? p + 1 : p)} ${e.op} ${side(e.right, e.op === "**" ? p : p + 1)}`;
    }
    case "dim":
      return `${spellExpr(e.of, scope)}.shape[${e.axis}]`;
    case "call": {
      const cache = e.cache === undefined || e.cache === false ? [] : e.cache === true ? ["cache"] : [`cache?.application(${spellExpr(e.cache, scope)})`];
      return `${spellExpr(e.module, scope)}.forward(${[...e.args.map((a) => spellExpr(a, scope)), ...cache].join(", ")})`;
    }
    case "item":
      // The list is built with the element (a shared repeat's one block); strict indexing cannot know it.
      return `${spellExpr(e.of, scope)}[${e.index}]!`;
    case "op": {
      const args: Record<string, string | readonly string[] | Exclude<OpArg, Expr | readonly Expr[]>> = {};
      for (const [k, a] of Object.entries(e.args)) args[k] = spellArg(a, scope);
      return opDef(e.op).ts(args as TsArgs);
    }
  }
}

function isExpr(a: OpArg): a is Expr {
  return typeof a === "object" && a !== null && !Array.isArray(a);
}

function spellArg(a: OpArg, scope: TsScope): string | readonly string[] | Exclude<OpArg, Expr | readonly Expr[]> {
  if (isExpr(a)) return spellExpr(a, scope);
  if (Array.isArray(a) && a.some((x) => typeof x === "object")) return (a as readonly Expr[]).map((x) => spellExpr(x, scope));
  return a as Exclude<OpArg, Expr | readonly Expr[]>;
}

/** The names of an unpack's elements; "_" (a part the code does not read) is left out: `[, b]`. */
export function unpacked(names: readonly string[]): string {
  return names.map((n) => (n === "_" ? "" : n)).join(", ");
}

/** The tf type of a tensor of a rank. */
export function tensorType(rank: 2 | 3 | 4): string {
  return `tf.Tensor${rank}D`;
}

/** Locals a method body assigns after declaring them: those are `let`, the rest `const`. */
export function reassigned(body: readonly Stmt[]): Set<string> {
  const names = new Set<string>();
  const visit = (s: Stmt): void => {
    if (s.kind === "set") names.add(s.name);
    else if (s.kind === "cache") names.add(s.k).add(s.v);
    else if (s.kind === "for" || s.kind === "times" || s.kind === "scope") s.body.forEach(visit);
  };
  body.forEach(visit);
  return names;
}

const withComment = (code: string, comment: string | undefined): string => (comment ? `${code} // ${tsLineComment(comment)}` : code);

/** `// ` lines of a note: prose wrapped to the file's width, or verbatim lines. */
export function noteLines(text: string, verbatim: boolean, width = 96): string[] {
  const lines = verbatim ? text.split("\n") : wrap(text, width);
  return lines.map((l) => `//${l ? ` ${tsLineComment(l)}` : ""}`);
}

/** A method's statements as lines of TypeScript (the formatter indents them). */
export function spellStmts(body: readonly Stmt[], scope: TsScope, lets: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const s of body) {
    switch (s.kind) {
      case "let": {
        const type = s.rank === undefined || s.rank === "any" ? "" : `: ${tensorType(s.rank)}`;
        out.push(withComment(`${lets.has(s.name) ? "let" : "const"} ${s.name}${type} = ${spellExpr(s.value, scope)};`, s.comment));
        break;
      }
      case "set":
        out.push(withComment(`${s.name} = ${spellExpr(s.value, scope)};`, s.comment));
        break;
      case "return":
        out.push(withComment(`return ${spellExpr(s.value, scope)};`, s.comment));
        break;
      case "unpack":
        out.push(withComment(`const [${unpacked(s.names)}] = ${spellExpr(s.value, scope)};`, s.comment));
        break;
      case "shape":
        out.push(`const [${s.names.join(", ")}] = ${spellExpr(s.of, scope)}.shape;`);
        break;
      case "note":
        if (s.only !== "python") out.push(...noteLines(s.text, s.verbatim === true));
        break;
      case "for": {
        const inner = spellStmts(s.body, scope, lets);
        const head = `for (const ${s.item} of ${spellExpr(s.over, scope)})`;
        if (inner.length === 1) out.push(`${head} ${inner[0]}`);
        else out.push(`${head} {`, ...inner, "}");
        break;
      }
      case "times": {
        const inner = spellStmts(s.body, scope, lets);
        const head = `for (let ${s.index} = 0; ${s.index} < ${spellExpr(s.count, scope)}; ${s.index}++)`;
        if (inner.length === 1) out.push(`${head} ${inner[0]}`);
        else out.push(`${head} {`, ...inner, "}");
        break;
      }
      case "scope":
        out.push("{", ...spellStmts(s.body, scope, lets), "}");
        break;
      case "cache":
        out.push(withComment(`if (cache) ({ ${s.k}, ${s.v} } = cache.append(this, ${s.k}, ${s.v}${s.window ? `, ${spellExpr(s.window, scope)}` : ""}));`, s.comment));
        break;
      case "aux_loss":
        out.push(withComment(`this.addAuxLoss(${spellExpr(s.value, scope)});`, s.comment));
        break;
    }
  }
  return out;
}

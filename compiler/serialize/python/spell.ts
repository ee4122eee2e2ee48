// Expressions and statements of the module tree in Python, against torch: fields are `self.x`, a
// module's forward is a call, sizes are `config.n_embd`, ops are spelled by the catalogue. The Python
// module has no KV cache: the tree's cache statements are left out and past positions are 0.
import type { Expr, OpArg, Stmt } from "../../tree/nodes.js";
import { opDef, PREC, type PyArgs, type PyText } from "../../tree/ops/index.js";
import { pyComment } from "../../text/python.js";
import { comment, pyNum } from "./text.js";

function text(t: string, prec: number, expr: Expr): PyText {
  return { text: t, prec, expr, at: (min) => (prec < min ? `(${t})` : t) };
}

/** A number as Python writes it: floats with a point or an exponent, counts as integers. */
export function pyLiteral(value: number, float: boolean): string {
  return float ? pyNum(value) : String(value);
}

/**
 * Where config is reached: `config` in a constructor, which takes it; `self.config` in the model's
 * forward (only the model keeps it).
 */
let configRef = "config";

/** Spells a forward's statements with config reached as self.config. */
export function inForward<T>(f: () => T): T {
  const saved = configRef;
  configRef = "self.config";
  try {
    return f();
  } finally {
    configRef = saved;
  }
}

export function spellPy(e: Expr): PyText {
  switch (e.kind) {
    case "var":
      return text(e.name, PREC.atom, e);
    case "field":
      return text(`self.${e.name}`, PREC.atom, e);
    case "param":
      return text(e.name, PREC.atom, e);
    case "config":
      return text(`${configRef}.${e.slot.name}`, PREC.atom, e);
    case "vocab":
      return text(`${configRef}.vocab_size`, PREC.atom, e);
    case "past":
      return text("0", PREC.atom, e);
    case "num":
      return text(pyLiteral(e.value, e.float === true), e.value < 0 ? PREC.power - 1 : PREC.atom, e);
    case "arith": {
      const left = spellPy(e.left);
      const right = spellPy(e.right);
      // black's spacing: a power of simple operands is written tight (hs**-0.5).
      if (e.op === "**") return text(`${left.at(PREC.power + 1)}**${right.at(PREC.power - 1)}`, PREC.power, e);
      return text(`${left.at(PREC.product)} * ${right.at(PREC.product + 1)}`, PREC.product, e);
    }
    case "dim":
      return text(`${spellPy(e.of).at(PREC.atom)}.shape[${e.axis}]`, PREC.atom, e);
    case "call":
      return text(`${spellPy(e.module).at(PREC.atom)}(${e.args.map((a) => spellPy(a).text).join(", ")})`, PREC.atom, e);
    case "item":
      return text(`${spellPy(e.of).at(PREC.atom)}[${e.index}]`, PREC.atom, e);
    case "op": {
      const args: Record<string, PyText | readonly PyText[] | Exclude<OpArg, Expr | readonly Expr[]>> = {};
      for (const [k, a] of Object.entries(e.args)) args[k] = spellArg(a);
      const out = opDef(e.op).py(args as PyArgs);
      return typeof out === "string" ? text(out, PREC.atom, e) : text(out.text, out.prec, e);
    }
  }
}

function isExpr(a: OpArg): a is Expr {
  return typeof a === "object" && a !== null && !Array.isArray(a);
}

function spellArg(a: OpArg): PyText | readonly PyText[] | Exclude<OpArg, Expr | readonly Expr[]> {
  if (isExpr(a)) return spellPy(a);
  if (Array.isArray(a) && a.some((x) => typeof x === "object")) return (a as readonly Expr[]).map(spellPy);
  return a as Exclude<OpArg, Expr | readonly Expr[]>;
}

const withComment = (code: string, note: string | undefined): string => (note ? `${code}  # ${pyComment(note)}` : code);

/** A method's statements as Python lines, indented by `indent` spaces inside the method. */
export function spellPyStmts(body: readonly Stmt[], indent = 8): string[] {
  const pad = " ".repeat(indent);
  const out: string[] = [];
  for (const s of body) {
    switch (s.kind) {
      case "let":
      case "set":
        out.push(pad + withComment(`${s.name} = ${spellPy(s.value).text}`, s.comment));
        break;
      case "return":
        out.push(pad + withComment(`return ${spellPy(s.value).text}`, s.comment));
        break;
      case "unpack":
        out.push(pad + withComment(`${s.names.join(", ")} = ${spellPy(s.value).text}`, s.comment));
        break;
      case "shape": {
        const names = [...s.names, ...(s.names.length < s.rank ? ["_"] : [])];
        out.push(`${pad}${names.join(", ")} = ${spellPy(s.of).at(PREC.atom)}.shape${s.names.length < s.rank - 1 ? `[:${s.names.length + 1}]` : ""}`);
        break;
      }
      case "note":
        if (s.only !== "typescript") out.push(...(s.verbatim ? s.text.split("\n").map((l) => `${pad}#${l ? ` ${pyComment(l)}` : ""}`) : comment(s.text, indent)));
        break;
      case "for":
        out.push(`${pad}for ${s.item} in ${spellPy(s.over).text}:`, ...spellPyStmts(s.body, indent + 4));
        break;
      case "times":
        out.push(`${pad}for ${s.index} in range(${spellPy(s.count).text}):`, ...spellPyStmts(s.body, indent + 4));
        break;
      case "scope":
        out.push(...spellPyStmts(s.body, indent));
        break;
      case "cache":
        break;
      case "aux_loss":
        out.push(pad + withComment(`self.aux_losses.append(${spellPy(s.value).text})`, s.comment));
        break;
    }
  }
  return out;
}

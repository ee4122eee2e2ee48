// The tensor primitives the forwards are written in: sums and products, matrix products, softmax, and
// the reshapes and transposes that split and merge attention heads. TypeScript spells them as tf calls;
// Python as operators and tensor methods.
import { PREC, pyText, tsText, type OpDef, type PyText } from "./op.js";
import { op, type Expr } from "../nodes.js";

export const ADD: OpDef = {
  name: "add",
  tsNames: ["tf"],
  ts: (a) => `tf.add(${tsText(a, "a")}, ${tsText(a, "b")})`,
  py: (a) => ({ text: `${pyText(a, "a").at(PREC.sum)} + ${pyText(a, "b").at(PREC.sum + 1)}`, prec: PREC.sum }),
};

export const MUL: OpDef = {
  name: "mul",
  tsNames: ["tf"],
  ts: (a) => `tf.mul(${tsText(a, "a")}, ${tsText(a, "b")})`,
  py: (a) => ({ text: `${pyText(a, "a").at(PREC.product)} * ${pyText(a, "b").at(PREC.product + 1)}`, prec: PREC.product }),
};

/** a · b over the last two axes; with transposeB, a · bᵀ. */
export const MATMUL: OpDef = {
  name: "matmul",
  tsNames: ["tf"],
  ts: (a) => `tf.matMul(${tsText(a, "a")}, ${tsText(a, "b")}${a["transposeB"] ? ", false, true" : ""})`,
  py: (a) => {
    const b = pyText(a, "b");
    const right = a["transposeB"] ? `${b.at(PREC.atom)}.transpose(-2, -1)` : b.at(PREC.product + 1);
    return { text: `${pyText(a, "a").at(PREC.product)} @ ${right}`, prec: PREC.product };
  },
};

/** Softmax over the last axis. */
export const SOFTMAX: OpDef = {
  name: "softmax",
  tsNames: ["tf"],
  ts: (a) => `tf.softmax(${tsText(a, "x")})`,
  py: (a) => `F.softmax(${pyText(a, "x").text}, dim=-1)`,
};

/** x with the axes `dims` (expressions; -1 infers one). */
export const RESHAPE: OpDef = {
  name: "reshape",
  tsNames: ["tf"],
  ts: (a) => {
    const dims = a["dims"] as readonly string[];
    return `tf.reshape(${tsText(a, "x")}, [${dims.join(", ")}]) as tf.Tensor${dims.length}D`;
  },
  py: (a) => {
    const x = pyText(a, "x");
    const dims = (a["dims"] as readonly PyText[]).map((d) => d.text).join(", ");
    // view needs the memory in order, which a transpose's result is not; reshape copies where it must.
    const method = x.expr.kind === "op" && x.expr.op === "transpose" ? "reshape" : "view";
    return `${x.at(PREC.atom)}.${method}(${dims})`;
  },
};

/** x with its axes permuted. */
export const TRANSPOSE: OpDef = {
  name: "transpose",
  tsNames: ["tf"],
  ts: (a) => `tf.transpose(${tsText(a, "x")}, [${(a["perm"] as readonly number[]).join(", ")}])`,
  py: (a) => {
    const perm = a["perm"] as readonly number[];
    const moved = perm.map((p, i) => (p === i ? -1 : i)).filter((i) => i >= 0);
    const x = pyText(a, "x").at(PREC.atom);
    // Two axes swapped is a transpose; anything else a permute.
    return moved.length === 2 && perm[moved[0]!] === moved[1] ? `${x}.transpose(${moved[0]}, ${moved[1]})` : `${x}.permute(${perm.join(", ")})`;
  },
};

// Constructors for builders.
export const add = (a: Expr, b: Expr): Expr => op(ADD.name, { a, b });
export const mul = (a: Expr, b: Expr): Expr => op(MUL.name, { a, b });
export const matmul = (a: Expr, b: Expr, transposeB = false): Expr => op(MATMUL.name, { a, b, transposeB });
export const softmax = (x: Expr): Expr => op(SOFTMAX.name, { x });
export const reshape = (x: Expr, dims: readonly Expr[]): Expr => op(RESHAPE.name, { x, dims });
export const transpose = (x: Expr, perm: readonly number[]): Expr => op(TRANSPOSE.name, { x, perm });

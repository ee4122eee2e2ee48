// parallel → the branches' layers as fields of the enclosing class; forward sums the branches, each
// applied to the same input: x = attn(x) + ffwd(x) when every branch is a chain of calls, else each
// branch on a variable of its own, then the sum.
import type { ParallelNode } from "../../ir/nodes/index.js";
import type { Expr, Stmt } from "../nodes.js";
import { expr, type BuildContext, type Builder, type Step } from "../builder.js";
import { v } from "../nodes.js";
import { add } from "../ops/index.js";

/** A branch as one expression of `input`, when each of its layers is one. */
function chain(branch: ParallelNode["branches"][number], input: Expr, ctx: BuildContext): Expr | undefined {
  let out = input;
  for (const layer of branch) {
    const step = ctx.stepOf(layer, out);
    if (step.kind === "expr") out = step.expr;
    else if (step.stmts.length > 0) return undefined;
  }
  return out;
}

export const parallel: Builder<ParallelNode> = {
  fields: (node, ctx) => node.branches.flatMap((b) => ctx.fieldsOf(b)),
  forward(node, input, ctx): Step {
    const comment = `${ctx.shape(node.outWidth)}: the branches' sum`;
    // Each branch reads the input: a chain of calls repeats it, so it must be a variable.
    if (input.kind === "var") {
      const chains = node.branches.map((b) => chain(b, input, ctx));
      if (chains.every((c) => c !== undefined)) return expr(chains.reduce((a, b) => add(a, b)), comment);
    }
    const x = input.kind === "var" ? input.name : "x";
    const names = node.branches.map((_, i) => (x === "x" ? `branch${i + 1}` : `${x}_branch${i + 1}`));
    const body: Stmt[] = node.branches.flatMap((b, i) => [{ kind: "let", name: names[i]!, value: input } as const, ...ctx.forwardOf(b, names[i]!)]);
    body.push({ kind: "set", name: x, value: names.map((n) => v(n)).reduce((a, b) => add(a, b)), comment });
    return { kind: "stmts", stmts: [{ kind: "scope", body }] };
  },
};

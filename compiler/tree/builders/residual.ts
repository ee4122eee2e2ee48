// residual → `x = x + body(x)`: the body's layers become fields of the enclosing class, and forward adds
// their output to the stream it read.
import type { ResidualNode } from "../../ir/nodes/index.js";
import { expr, type Builder } from "../builder.js";
import { v, type Expr } from "../nodes.js";
import { add } from "../ops/index.js";

export const residual: Builder<ResidualNode> = {
  fields: (node, ctx) => ctx.fieldsOf(node.body),
  forward(node, input, ctx) {
    const name = input.kind === "var" ? input.name : "x";
    const comment = `${ctx.shape(node.width)}: ${name} + f(${name})`;
    // Nest the body as calls when every layer is an expression: x = x + attn(ln1(x)).
    let body: Expr = input;
    for (const layer of node.body) {
      const step = ctx.stepOf(layer, body);
      if (step.kind === "expr") {
        body = step.expr;
        continue;
      }
      if (step.stmts.length === 0) continue;
      // A body with a loop in it runs on a variable of its own (one name per nesting level), then adds.
      const h = name === "x" ? "h" : `${name}h`;
      return {
        kind: "stmts",
        stmts: [{ kind: "scope", body: [{ kind: "let", name: h, value: input }, ...ctx.forwardOf(node.body, h), { kind: "set", name, value: add(input, v(h)), comment }] }],
      };
    }
    return expr(add(input, body), comment);
  },
};

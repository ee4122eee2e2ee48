// residual → `x = x + body(x)`: the body's layers become fields of the enclosing class, and forward adds
// their output to the stream it read.
import type { ResidualNode } from "../../ir/nodes/index.js";
import { expr, type LayerEmitter } from "../layer-emitter.js";
import { sequenceForward, sequenceMembers, stepOf } from "../sequence.js";

export const emitResidual: LayerEmitter<ResidualNode> = {
  runtime: ["tf"],
  members: (node, ctx, scope) => sequenceMembers(node.body, ctx, scope),
  forward(node, input, ctx, scope) {
    const comment = `${ctx.shape(node.width)}: ${input} + f(${input})`;
    // Nest the body as calls when every layer is an expression: x = x + attn(ln1(x)).
    let body = input;
    for (const layer of node.body) {
      const step = stepOf(layer, body, ctx, scope);
      if (step.kind === "stmts") {
        if (step.lines.length === 0) continue;
        const lines = sequenceForward(node.body, ctx, scope, "h");
        return { kind: "stmts", lines: ["{", `let h = ${input};`, ...lines, `${input} = tf.add(${input}, h); ${comment}`, "}"] };
      }
      body = step.expr;
    }
    return expr(`tf.add(${input}, ${body})`, comment);
  },
};

// residual → `x = x + body(x)`: the body's layers become attributes of the enclosing module, and forward
// adds their output to the stream it read.
import type { ResidualNode } from "../../ir/nodes/index.js";
import { expr, type TorchLayerEmitter } from "../layer-emitter.js";
import { sequenceForward, sequenceMembers, stepOf } from "../sequence.js";

export const emitResidual: TorchLayerEmitter<ResidualNode> = {
  members: (node, ctx, scope) => sequenceMembers(node.body, ctx, scope),
  forward(node, input, ctx, scope) {
    const comment = `${ctx.shape(node.width)}: ${input} + f(${input})`;
    // Nest the body as calls when every layer is an expression: x = x + self.attn(self.ln1(x)).
    let body = input;
    for (const layer of node.body) {
      const step = stepOf(layer, body, ctx, scope);
      if (step.kind === "stmts") {
        if (step.lines.length === 0) continue;
        // A body with a loop in it runs on a variable of its own (one per nesting level), then adds.
        const h = input === "x" ? "h" : `${input}h`;
        return { kind: "stmts", lines: [`${h} = ${input}`, ...sequenceForward(node.body, ctx, scope, h), `${input} = ${input} + ${h}  ${comment}`] };
      }
      body = step.expr;
    }
    return expr(`${input} + ${body}`, comment);
  },
};

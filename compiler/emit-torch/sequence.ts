// A list of layers inside one module: the attributes they add and the forward statements that apply them
// in order to `x`, each with its output shape in a comment.
import { nodeDef, type IrNode } from "../ir/nodes/index.js";
import type { Scope, TorchContext } from "./context.js";
import type { Member, Step } from "./layer-emitter.js";
import { emitForward, emitMembers } from "./layers/index.js";

export function sequenceMembers(nodes: readonly IrNode[], ctx: TorchContext, scope: Scope): Member[] {
  return nodes.flatMap((n) => emitMembers(n, ctx, scope));
}

/** One layer's step, with its output shape as the comment unless the emitter gave its own. */
export function stepOf(node: IrNode, input: string, ctx: TorchContext, scope: Scope): Step {
  const step = emitForward(node, input, ctx, scope);
  if (step.kind === "stmts" || step.comment !== undefined) return step;
  return { ...step, comment: ctx.shape(nodeDef(node.kind).outWidth(node as never)) };
}

/** `target = expr  # comment` */
export function assign(target: string, step: Extract<Step, { kind: "expr" }>): string {
  return step.comment ? `${target} = ${step.expr}  ${step.comment}` : `${target} = ${step.expr}`;
}

/**
 * Forward statements updating the variable `v` through `nodes`. The model's first layer reads `idx`; its
 * last assigns `logits`.
 */
export function sequenceForward(
  nodes: readonly IrNode[],
  ctx: TorchContext,
  scope: Scope,
  v = "x",
  ends: { readonly fromTokens?: boolean; readonly toLogits?: boolean } = {},
): string[] {
  const lines: string[] = [];
  let input = ends.fromTokens ? "idx" : v;
  nodes.forEach((node, i) => {
    const last = i === nodes.length - 1;
    const step = stepOf(node, input, ctx, scope);
    if (step.kind === "stmts") {
      lines.push(...step.lines);
      if (last && ends.toLogits) lines.push(`logits = ${input}`);
      return;
    }
    lines.push(assign(last && ends.toLogits ? "logits" : v, step));
    input = v;
  });
  return lines;
}

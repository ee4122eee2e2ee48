// A list of layers inside one class: the fields they add and the forward statements that apply them in
// order to `x`, each with its output shape in a comment.
import { nodeDef, type IrNode } from "../ir/nodes/index.js";
import type { EmitContext, Scope } from "./context.js";
import type { Member, Step } from "./layer-emitter.js";
import { emitForward, emitMembers } from "./layers/index.js";

export function sequenceMembers(nodes: readonly IrNode[], ctx: EmitContext, scope: Scope): Member[] {
  return nodes.flatMap((n) => emitMembers(n, ctx, scope));
}

/** One layer's step, with its output shape as the comment unless the emitter gave its own. */
export function stepOf(node: IrNode, input: string, ctx: EmitContext, scope: Scope): Step {
  const step = emitForward(node, input, ctx, scope);
  if (step.kind === "stmts" || step.comment !== undefined) return step;
  return { ...step, comment: ctx.shape(nodeDef(node.kind).outWidth(node as never)) };
}

/**
 * Forward statements updating the variable `v` through `nodes`. The model's first layer reads `idx` and
 * declares `x`; its last declares `logits`.
 */
export function sequenceForward(
  nodes: readonly IrNode[],
  ctx: EmitContext,
  scope: Scope,
  v = "x",
  ends: { readonly fromTokens?: boolean; readonly toLogits?: boolean } = {},
): string[] {
  const lines: string[] = [];
  let declared = !ends.fromTokens;
  nodes.forEach((node, i) => {
    const last = i === nodes.length - 1;
    const step = stepOf(node, declared ? v : "idx", ctx, scope);
    if (step.kind === "stmts") {
      lines.push(...step.lines);
      if (last && ends.toLogits) lines.push(`const logits = ${v};`);
      return;
    }
    const target = last && ends.toLogits ? "const logits" : declared ? v : `let ${v}`;
    lines.push(`${target} = ${step.expr}; ${step.comment ?? ""}`.trimEnd());
    declared = true;
  });
  return lines;
}

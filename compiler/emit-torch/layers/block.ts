// block → a class of its own (the Transformer block), whose attributes are its body's layers; repeat uses
// the same class for each copy.
import type { BlockNode } from "../../ir/nodes/index.js";
import { canonicalJson } from "../../ir/lower.js";
import type { TorchContext } from "../context.js";
import { callModule, memberLine, moduleMember, type TorchLayerEmitter } from "../layer-emitter.js";
import { sequenceForward, sequenceMembers } from "../sequence.js";

/** Declares the block's class and returns how to build one: `Block(config)`, or `Block()` when it needs no sizes. */
export function useBlockClass(node: BlockNode, ctx: TorchContext): string {
  const name = ctx.useClass(node.className, canonicalJson(node.body), "block", (cls) => {
    const members = sequenceMembers(node.body, ctx, "block");
    const usesConfig = members.some((m) => /\bconfig\./.test(m.init));
    return {
      name: cls,
      doc: "A Transformer block: communication between positions (attention) followed by computation per position.",
      params: usesConfig ? "config: ModelConfig" : "",
      init: members.map(memberLine),
      forward: [...sequenceForward(node.body, ctx, "block"), "return x"],
    };
  });
  // The class may have been built for an earlier node of the same structure: ask it what it takes.
  return `${name}(${ctx.classNamed(name)?.params ? "config" : ""})`;
}

export const emitBlock: TorchLayerEmitter<BlockNode> = {
  members: (node, ctx, scope) => [moduleMember(ctx.attr(node.name, scope), useBlockClass(node, ctx))],
  forward: (node, input) => callModule(node.name, input),
};

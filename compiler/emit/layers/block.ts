// block → a class of its own (the Transformer block), whose fields are its body's layers; repeat uses the
// same class for each copy.
import type { BlockNode } from "../../ir/nodes/index.js";
import { canonicalJson } from "../../ir/lower.js";
import { buildClass } from "../class-builder.js";
import type { EmitContext } from "../context.js";
import { readsPositions } from "../../ir/analysis.js";
import { CACHE_PARAM, callForward, type LayerEmitter, moduleMember } from "../layer-emitter.js";
import { sequenceForward, sequenceMembers } from "../sequence.js";

export interface BlockClass {
  readonly name: string;
  /** Whether its constructor takes the vocabulary size (only when a layer inside is vocab-wide). */
  readonly takesVocab: boolean;
}

export function useBlockClass(node: BlockNode, ctx: EmitContext): BlockClass {
  let takesVocab = false;
  const name = ctx.useClass(node.className, canonicalJson(node.body), "block", (cls) => {
    const members = sequenceMembers(node.body, ctx, "block");
    takesVocab = members.some((m) => /\bvocabSize\b/.test(m.init));
    return buildClass({
      name: cls,
      doc: "A Transformer block: communication between positions (attention) followed by computation per position.",
      fields: members.map((m) => ({ name: m.property, type: m.type })),
      ctorParams: takesVocab ? [{ name: "vocabSize", type: "number" }] : [],
      ctorBody: members.map((m) => `this.${m.property} = ${m.init};`),
      methods: [
        {
          name: "forward",
          params: readsPositions(node) ? [{ name: "x", type: "tf.Tensor3D" }, CACHE_PARAM] : [{ name: "x", type: "tf.Tensor3D" }],
          returns: "tf.Tensor3D",
          body: [...sequenceForward(node.body, ctx, "block"), "return x;"],
        },
      ],
    });
  });
  // The class may have been built for an earlier node of the same structure.
  const vocab = takesVocab || ctx.classUsesVocab(name);
  ctx.markVocab(name, vocab);
  return { name, takesVocab: vocab };
}

export const emitBlock: LayerEmitter<BlockNode> = {
  runtime: ["tf"],
  members(node, ctx, scope) {
    const cls = useBlockClass(node, ctx);
    const arg = cls.takesVocab ? ctx.size("vocab", scope) : "";
    return [moduleMember(node.name, cls.name, arg)];
  },
  forward: (node, input) => callForward(node.name, input, readsPositions(node)),
};

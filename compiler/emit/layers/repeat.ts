// repeat → a list of block instances, each with its own weights, applied one after another.
import { readsPositions } from "../../ir/analysis.js";
import type { RepeatNode } from "../../ir/nodes/index.js";
import { propertyName } from "../context.js";
import type { LayerEmitter } from "../layer-emitter.js";
import { useBlockClass } from "./block.js";

export const emitRepeat: LayerEmitter<RepeatNode> = {
  runtime: [],
  members(node, ctx, scope) {
    const cls = useBlockClass(node.block, ctx);
    const arg = cls.takesVocab ? ctx.size("vocab", scope) : "";
    return [
      {
        property: propertyName(node.name),
        type: `${cls.name}[]`,
        init: `this.modules("${node.name}", Array.from({ length: ${node.times} }, () => new ${cls.name}(${arg})))`,
      },
    ];
  },
  forward(node, input, ctx) {
    const field = propertyName(node.name);
    const one = field.endsWith("s") ? field.slice(0, -1) : "block";
    const args = readsPositions(node.block) ? `${input}, cache` : input;
    return { kind: "stmts", lines: [`for (const ${one} of this.${field}) ${input} = ${one}.forward(${args}); ${ctx.shape(node.width)}`] };
  },
};

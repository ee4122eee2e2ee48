// repeat → an nn.ModuleList of block instances, each with its own weights, applied one after another.
import type { RepeatNode } from "../../ir/nodes/index.js";
import type { TorchLayerEmitter } from "../layer-emitter.js";
import { useBlockClass } from "./block.js";

/** Names forward already uses, which the loop variable must not take. */
const LOCALS = new Set(["x", "h", "idx", "targets", "logits", "loss", "self", "config"]);

export const emitRepeat: TorchLayerEmitter<RepeatNode> = {
  members(node, ctx, scope) {
    const make = useBlockClass(node.block, ctx);
    return [{ kind: "attr", attr: ctx.attr(node.name, scope), init: `nn.ModuleList([${make} for _ in range(${node.times})])` }];
  },
  forward(node, input, ctx) {
    const singular = node.name.endsWith("s") ? node.name.slice(0, -1) : "";
    const one = singular && !LOCALS.has(singular) && singular !== input ? singular : "block";
    return { kind: "stmts", lines: [`for ${one} in self.${node.name}:`, `    ${input} = ${one}(${input})  ${ctx.shape(node.width)}`] };
  },
};

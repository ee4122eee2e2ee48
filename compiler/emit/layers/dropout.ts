// dropout → a call in forward (no field: it has no parameters); nothing at all when its rate is 0.
import type { DropoutNode } from "../../ir/nodes/index.js";
import { num } from "../context.js";
import { expr, type LayerEmitter } from "../layer-emitter.js";

export const emitDropout: LayerEmitter<DropoutNode> = {
  runtime: ["dropout"],
  members: () => [],
  forward: (node, input) => (node.rate > 0 ? expr(`dropout(${input}, ${num(node.rate)}, this.training)`) : { kind: "stmts", lines: [] }),
};

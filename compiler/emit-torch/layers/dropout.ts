// dropout → a call in forward (no attribute: it has no parameters); nothing at all when its rate is 0.
import type { DropoutNode } from "../../ir/nodes/index.js";
import { expr, NOTHING, type TorchLayerEmitter } from "../layer-emitter.js";
import { pyNum } from "../python.js";

export const emitDropout: TorchLayerEmitter<DropoutNode> = {
  members: () => [],
  forward: (node, input) => (node.rate > 0 ? expr(`F.dropout(${input}, ${pyNum(node.rate)}, self.training)`) : NOTHING),
};

// add: x + s, s the stream a save recorded under a label earlier in the layer list (or in a list around
// it); learned, x + w·s with a scalar w that starts at 1.
import type { AddSpec } from "../../spec/types.generated.js";
import { NO_CHILDREN, NO_PARAMS, type NodeDef } from "../node-def.js";
import { resolveWidth, showWidth } from "../width.js";
import { requireActivations } from "./require.js";

export const add: NodeDef<"add"> = {
  kind: "add",
  defaultName: () => "add",
  lower(spec: AddSpec, ctx) {
    const width = requireActivations(ctx, "add");
    const label = String(spec.from);
    const saved = ctx.readLabel(label, "from");
    if (saved !== width) {
      throw ctx.error(`the stream saved as ${label} is ${showWidth(saved)} wide, but here it is ${showWidth(width)}: an add needs the same width`, "from");
    }
    return { kind: "add", name: ctx.name, label, width, learned: spec.learned };
  },
  outWidth: (node) => node.width,
  params: (node) => (node.learned ? [{ name: "weight", shape: [1] }] : NO_PARAMS),
  children: () => NO_CHILDREN,
  cost(node, dims) {
    const c = resolveWidth(node.width, dims);
    return { flops: node.learned ? 2 * c : c, activations: 0 };
  },
};

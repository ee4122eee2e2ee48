// save: records the stream at this point under a label, for an add further on (a skip connection from an
// earlier layer). No parameters, no name: the label names it.
import type { SaveSpec } from "../../spec/types.generated.js";
import { NO_CHILDREN, NO_PARAMS, type NodeDef } from "../node-def.js";
import { requireActivations } from "./require.js";

export const save: NodeDef<"save"> = {
  kind: "save",
  defaultName: () => undefined,
  lower(spec: SaveSpec, ctx) {
    const width = requireActivations(ctx, "save");
    const label = String(spec.as);
    ctx.saveLabel(label, width, "as");
    return { kind: "save", label, width };
  },
  outWidth: (node) => node.width,
  params: () => NO_PARAMS,
  children: () => NO_CHILDREN,
  cost: () => ({ flops: 0, activations: 0 }),
};

// parallel: branches side by side, each reading the same input, their outputs summed. GPT-J and GPT-NeoX
// compute attention and the MLP from one norm this way, which lets both run at once.
import type { ParallelSpec } from "../../spec/types.generated.js";
import { NO_PARAMS, type NodeDef } from "../node-def.js";
import { resolveWidth, showWidth, type Width } from "../width.js";
import { requireActivations } from "./require.js";

export const parallel: NodeDef<"parallel"> = {
  kind: "parallel",
  defaultName: () => undefined,
  lower(spec: ParallelSpec, ctx) {
    const inWidth = requireActivations(ctx, "parallel");
    const branches = spec.branches.map((_, i) => ctx.lowerList(["branches", i], inWidth, "same"));
    const outWidth = branches[0]!.output as Width;
    const other = branches.findIndex((b) => b.output !== outWidth);
    if (other > 0) {
      throw ctx.error(`branch 1 ends at width ${showWidth(outWidth)} and branch ${other + 1} at ${showWidth(branches[other]!.output as Width)}; the branches are summed, so they must end at the same width`, "branches");
    }
    return { kind: "parallel", inWidth, outWidth, branches: branches.map((b) => b.nodes) };
  },
  outWidth: (node) => node.outWidth,
  params: () => NO_PARAMS,
  children: (node) => node.branches.map((nodes) => ({ prefix: "", nodes })),
  cost: (node, dims) => ({ flops: (node.branches.length - 1) * resolveWidth(node.outWidth, dims), activations: 0 }),
};

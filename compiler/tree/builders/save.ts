// save → a local holding the stream under its label's name (skip_<label>); no field.
import type { SaveNode } from "../../ir/nodes/index.js";
import type { Builder } from "../builder.js";

/** The local a label's stream is kept in, in both targets. */
export const skipVar = (label: string): string => `skip_${label}`;

export const save: Builder<SaveNode> = {
  fields: () => [],
  forward: (node, input, ctx) => ({ kind: "stmts", stmts: [{ kind: "let", name: skipVar(node.label), value: input, comment: `${ctx.shape(node.width)}: kept for the add from ${node.label}` }] }),
};

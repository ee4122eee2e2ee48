// attention_head → the Head class (one head of causal self-attention, the lecture's step by step) and a
// field holding one; and the class of one head's projections that multi-head attention reads.
import type { AttentionHeadNode } from "../../ir/nodes/index.js";
import { expr, type BuildContext, type Builder } from "../builder.js";
import { CONFIG_DOCS } from "../config-docs.js";
import { dropout, linear } from "../library.js";
import { call, num, param, self, v, type Init } from "../nodes.js";
import { causalMask, matmul, mul, softmax } from "../ops/index.js";

/** What the KV cache statement does, said where it stands (the PyTorch module has no KV cache). */
export const CACHE_NOTE = "While sampling, the keys and values of the positions before x's come from the cache.";

/** A head's three projections, in the order they are built (the order initialization draws them in). */
function projections(bias: boolean): Init[] {
  const proj = (name: string, doc: string): Init => ({ kind: "module", name, make: linear(param("n_in"), param("head_size"), bias), doc });
  return [
    proj("key", "What each position offers to be found by."),
    proj("query", "What each position is looking for."),
    proj("value", "What each position passes on when attended to."),
  ];
}

/**
 * The class holding one head's projections inside a multi-head layer: the layer's attention op reads
 * every head's weights at once, so it has no forward. Its fields keep the parameter names
 * heads.<i>.query.weight and so on.
 */
export function headProjectionsClass(ctx: BuildContext, bias: boolean): string {
  return ctx.useClass("Head", "head", {
    doc: `One head's key, query and value projections${bias ? " (with biases)" : ""}: the multi-head layer's attention op reads them, every head at once, so the class has no forward of its own.`,
    params: [{ name: "n_in" }, { name: "head_size" }],
    init: projections(bias),
  });
}

export const attentionHead: Builder<AttentionHeadNode> = {
  fields(node, ctx) {
    const withDropout = node.dropout > 0;
    const cls = ctx.useClass("Head", "head", {
      doc: "One head of causal self-attention: each position mixes the values of the positions before it, weighted by how well its query matches their keys.",
      params: [{ name: "n_in" }, { name: "head_size" }, ...(withDropout ? [{ name: "dropout", float: true }] : [])],
      init: [
        ...projections(false),
        ...(node.scale ? [{ kind: "value", name: "scale", value: { kind: "arith", op: "**", left: param("head_size"), right: num(-0.5) }, float: true, doc: "1/sqrt(head_size): keeps the scores' variance near 1." } as const] : []),
        ...(withDropout ? [{ kind: "module", name: "dropout", make: dropout(param("dropout")), doc: "On the attention weights, while training." } as const] : []),
      ],
      forward: {
        rank: 3,
        cache: true,
        scoped: false,
        body: [
          { kind: "let", name: "k", value: call(self("key"), [v("x")]), comment: "(B, T, hs)" },
          { kind: "let", name: "q", value: call(self("query"), [v("x")]), comment: "(B, T, hs)" },
          { kind: "let", name: "v", value: call(self("value"), [v("x")]), comment: "(B, T, hs)" },
          { kind: "note", only: "typescript", text: CACHE_NOTE },
          { kind: "cache", k: "k", v: "v", comment: "(B, past+T, hs)" },
          node.scale
            ? { kind: "note", text: "Affinities q·k between every pair of positions, scaled by 1/sqrt(hs) so their variance stays near 1 and softmax does not saturate into one-hot weights as head size grows." }
            : { kind: "note", text: "Affinities q·k between every pair of positions (unscaled)." },
          { kind: "let", name: "wei", value: node.scale ? mul(matmul(v("q"), v("k"), true), self("scale")) : matmul(v("q"), v("k"), true), rank: 3, comment: "(B, T, T)" },
          { kind: "set", name: "wei", value: causalMask(v("wei")), comment: "(B, T, T): a position may not look at later ones" },
          { kind: "set", name: "wei", value: softmax(v("wei")), comment: "(B, T, T): each row sums to 1" },
          ...(withDropout ? [{ kind: "set", name: "wei", value: call(self("dropout"), [v("wei")]), comment: "(B, T, T)" } as const] : []),
          { kind: "return", value: matmul(v("wei"), v("v")), comment: "(B, T, hs)" },
        ],
      },
    });
    const args = [ctx.width(node.inWidth, node.name, "in"), ctx.config("head_size", node.headSize, "Width of each attention head's query, key and value.", node.name)];
    if (withDropout) args.push(ctx.config("dropout", node.dropout, CONFIG_DOCS.dropout, node.name, true));
    return [{ kind: "module", name: node.name, make: { kind: "class", name: cls, args } }];
  },
  forward: (node, input) => expr(call(self(node.name), [input], true)),
};

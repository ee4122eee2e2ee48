// multi_head_attention → the MultiHeadAttention class (heads side by side, concatenated, projected): its
// forward is one op, multiHeadCausalAttention, with the op's math and shapes in a comment above the call.
import type { MultiHeadAttentionNode } from "../../ir/nodes/index.js";
import { buildClass } from "../class-builder.js";
import { num } from "../context.js";
import { callForward, type LayerEmitter, moduleMember } from "../layer-emitter.js";
import { useHeadProjectionsClass } from "./attention-head.js";

export const emitMultiHeadAttention: LayerEmitter<MultiHeadAttentionNode> = {
  runtime: ["Linear", "dropout", "multiHeadCausalAttention", "tf"],
  members(node, ctx, scope) {
    const withDropout = node.dropout > 0;
    const head = useHeadProjectionsClass(ctx);
    const proj = node.projection;
    const cls = ctx.useClass("MultiHeadAttention", `head=${head},projection=${proj},dropout=${withDropout}`, "attention", (name) =>
      buildClass({
        name,
        doc: `Several heads of attention in parallel${proj ? ", their outputs concatenated and projected back to the input width" : ", their outputs concatenated"}.`,
        fields: [
          { name: "heads", type: `${head}[]` },
          { name: "scale", type: "number", doc: node.scale ? "1/sqrt(head_size): keeps the scores' variance near 1." : "1: scores are left unscaled." },
          ...(proj ? [{ name: "proj", type: "Linear", doc: "Mixes what the heads found, back into the residual stream's width." }] : []),
          ...(withDropout ? [{ name: "dropoutRate", type: "number" }] : []),
        ],
        ctorParams: [{ name: "o", type: `{ nIn: number; heads: number; headSize: number${withDropout ? "; dropout: number" : ""} }` }],
        ctorBody: [
          `const makeHead = (): ${head} => new ${head}({ nIn: o.nIn, headSize: o.headSize });`,
          `this.heads = this.modules("heads", Array.from({ length: o.heads }, makeHead));`,
          node.scale ? "this.scale = o.headSize ** -0.5;" : "this.scale = 1;",
          ...(proj ? [`this.proj = this.module("proj", new Linear(o.heads * o.headSize, o.nIn));`] : []),
          ...(withDropout ? ["this.dropoutRate = o.dropout;"] : []),
        ],
        methods: [
          {
            name: "forward",
            params: [{ name: "x", type: "tf.Tensor3D" }],
            returns: "tf.Tensor3D",
            body: [
              ...opComment(node.scale, withDropout),
              `${proj ? "const out =" : "return"} multiHeadCausalAttention(x, this.heads, this.scale${withDropout ? ", this.dropoutRate, this.training" : ""}); // (B, T, nh*hs)`,
              ...(proj
                ? [
                    withDropout
                      ? "return dropout(this.proj.forward(out), this.dropoutRate, this.training); // (B, T, C)"
                      : "return this.proj.forward(out); // (B, T, C)",
                  ]
                : []),
            ],
          },
        ],
      }),
    );
    const args: [string, string][] = [
      ["nIn", ctx.size(node.inWidth, scope)],
      ["heads", String(node.heads)],
      ["headSize", String(node.headSize)],
    ];
    if (withDropout) args.push(["dropout", num(node.dropout)]);
    return [moduleMember(node.name, cls, args)];
  },
  forward: (node, input) => callForward(node.name, input),
};

/** The comment above the op's call: what it computes for each head, with the shapes. */
function opComment(scale: boolean, withDropout: boolean): string[] {
  const steps: [string, string][] = [
    ["q, k, v = query(x), key(x), value(x)", "(B, T, hs) each"],
    [`wei = softmax(causalMask(q·kᵀ${scale ? " · scale" : ""}))`, "(B, T, T): each row sums to 1"],
    ...(withDropout ? [["wei = dropout(wei)", "(B, T, T), in training"] as [string, string]] : []),
    ["out = wei·v", "(B, T, hs)"],
  ];
  const width = Math.max(...steps.map(([math]) => math.length));
  return [
    "// Causal self-attention of every head in one op (runtime/ops/attention.ts has its math in tf ops):",
    ...steps.map(([math, shape], i) => `//   ${i === 0 ? "per head:" : "         "} ${math.padEnd(width)}  ${shape}`),
    "//   and the heads' outputs side by side.",
  ];
}

// multi_head_attention → the MultiHeadAttention class (heads side by side, concatenated, projected).
import type { MultiHeadAttentionNode } from "../../ir/nodes/index.js";
import { buildClass } from "../class-builder.js";
import { num } from "../context.js";
import { callForward, type LayerEmitter, moduleMember } from "../layer-emitter.js";
import { useHeadClass } from "./attention-head.js";

export const emitMultiHeadAttention: LayerEmitter<MultiHeadAttentionNode> = {
  members(node, ctx, scope) {
    const withDropout = node.dropout > 0;
    const head = useHeadClass(ctx, node.scale, withDropout);
    const proj = node.projection;
    const cls = ctx.useClass("MultiHeadAttention", `head=${head},projection=${proj},dropout=${withDropout}`, (name) =>
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
          `const makeHead = (): ${head} => new ${head}({ nIn: o.nIn, headSize: o.headSize${withDropout ? ", dropout: o.dropout" : ""} });`,
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
              "// Every head at once: the same as tf.concat(this.heads.map((h) => h.forward(x)), -1), computed",
              "// with one projection for all heads on backends that fuse it (runtime/nn/functional.ts).",
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

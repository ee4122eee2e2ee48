// feed_forward → the FeedForward class: linear, activation, linear (, dropout), per token.
import type { FeedForwardNode } from "../../ir/nodes/index.js";
import { buildClass } from "../class-builder.js";
import { num } from "../context.js";
import { callForward, type LayerEmitter, moduleMember } from "../layer-emitter.js";

export const emitFeedForward: LayerEmitter<FeedForwardNode> = {
  runtime: ["Linear", "dropout", "gelu", "tf"],
  members(node, ctx, scope) {
    const withDropout = node.dropout > 0;
    const act = node.activation === "relu" ? "tf.relu" : "gelu";
    const cls = ctx.useClass("FeedForward", `activation=${node.activation},dropout=${withDropout}`, "mlp", (name) =>
      buildClass({
        name,
        doc: `A per-token MLP: attention lets tokens gather information from each other; here each token computes on what it gathered (${node.activation === "relu" ? "ReLU" : "GELU"} between two linear layers).`,
        fields: [
          { name: "fc", type: "Linear" },
          { name: "proj", type: "Linear" },
          ...(withDropout ? [{ name: "dropoutRate", type: "number" }] : []),
        ],
        ctorParams: [{ name: "o", type: `{ nIn: number; hidden: number${withDropout ? "; dropout: number" : ""} }` }],
        ctorBody: [
          `this.fc = this.module("fc", new Linear(o.nIn, o.hidden));`,
          `this.proj = this.module("proj", new Linear(o.hidden, o.nIn));`,
          ...(withDropout ? ["this.dropoutRate = o.dropout;"] : []),
        ],
        methods: [
          {
            name: "forward",
            params: [{ name: "x", type: "tf.Tensor3D" }],
            returns: "tf.Tensor3D",
            body: [
              `const h = ${act}(this.fc.forward(x)); // (B, T, hidden)`,
              withDropout
                ? "return dropout(this.proj.forward(h), this.dropoutRate, this.training); // (B, T, C)"
                : "return this.proj.forward(h); // (B, T, C)",
            ],
          },
        ],
      }),
    );
    const args: [string, string][] = [
      ["nIn", ctx.size(node.width, scope)],
      ["hidden", String(node.hidden)],
    ];
    if (withDropout) args.push(["dropout", num(node.dropout)]);
    return [moduleMember(node.name, cls, args)];
  },
  forward: (node, input) => callForward(node.name, input),
};

// feed_forward → the FeedForward class: linear, activation, linear (, dropout), per token; gated, a third
// linear whose activation multiplies the first's (SwiGLU, GeGLU).
import type { FeedForwardNode } from "../../ir/nodes/index.js";
import type { Activation } from "../../ir/nodes/feed-forward.js";
import { buildClass } from "../class-builder.js";
import { num } from "../context.js";
import { callForward, type LayerEmitter, moduleMember } from "../layer-emitter.js";

/** Each activation's call in generated code and its name in prose. */
const ACTIVATIONS: { readonly [A in Activation]: { readonly call: string; readonly prose: string } } = {
  relu: { call: "tf.relu", prose: "ReLU" },
  gelu: { call: "gelu", prose: "GELU" },
  silu: { call: "silu", prose: "SiLU" },
  relu2: { call: "relu2", prose: "ReLU²" },
};

export const emitFeedForward: LayerEmitter<FeedForwardNode> = {
  runtime: ["Linear", "dropout", "gatedActivation", "gelu", "relu2", "silu", "tf"],
  members(node, ctx, scope) {
    const withDropout = node.dropout > 0;
    const { call: act, prose } = ACTIVATIONS[node.activation];
    const bias = node.bias ? "" : ", false";
    const gated = node.gated;
    const variant = `activation=${node.activation},gated=${gated},bias=${node.bias},dropout=${withDropout}`;
    const cls = ctx.useClass("FeedForward", variant, "mlp", (name) =>
      buildClass({
        name,
        doc: gated
          ? `A gated per-token MLP (${node.activation === "silu" ? "SwiGLU" : node.activation === "gelu" ? "GeGLU" : `${prose}-gated`}): the ${prose} of one projection, gate, multiplies another, fc, elementwise before the projection back down; attention gathers information across tokens, and here each token computes on what it gathered.`
          : `A per-token MLP: attention lets tokens gather information from each other; here each token computes on what it gathered (${prose} between two linear layers).`,
        fields: [
          ...(gated ? [{ name: "gate", type: "Linear", doc: "Its activation decides how much of each hidden unit passes." }] : []),
          { name: "fc", type: "Linear", ...(gated ? { doc: "The up projection the gate multiplies." } : {}) },
          { name: "proj", type: "Linear" },
          ...(withDropout ? [{ name: "dropoutRate", type: "number" }] : []),
        ],
        ctorParams: [{ name: "o", type: `{ nIn: number; hidden: number${withDropout ? "; dropout: number" : ""} }` }],
        ctorBody: [
          ...(gated ? [`this.gate = this.module("gate", new Linear(o.nIn, o.hidden${bias}));`] : []),
          `this.fc = this.module("fc", new Linear(o.nIn, o.hidden${bias}));`,
          `this.proj = this.module("proj", new Linear(o.hidden, o.nIn${bias}));`,
          ...(withDropout ? ["this.dropoutRate = o.dropout;"] : []),
        ],
        methods: [
          {
            name: "forward",
            params: [{ name: "x", type: "tf.Tensor3D" }],
            returns: "tf.Tensor3D",
            body: [
              ...(gated
                ? [
                    `// ${prose}(gate) · fc elementwise in one op (runtime/ops/gated-activation.ts has its math in tf ops):`,
                    "// one kernel forward and one backward on backends that register it.",
                    `const h = gatedActivation(this.gate.forward(x), this.fc.forward(x), "${node.activation}"); // (B, T, hidden)`,
                  ]
                : [`const h = ${act}(this.fc.forward(x)); // (B, T, hidden)`]),
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

// attention_head → the Head class (one head of causal self-attention) and a field holding one.
import type { AttentionHeadNode } from "../../ir/nodes/index.js";
import { buildClass } from "../class-builder.js";
import { type EmitContext, num } from "../context.js";
import { CACHE_PARAM, callForward, type LayerEmitter, moduleMember } from "../layer-emitter.js";

/** A head's three projections: the fields, and the constructor lines that name their parameters. */
const PROJECTION_FIELDS = [
  { name: "key", type: "Linear", doc: "What each position offers to be found by." },
  { name: "query", type: "Linear", doc: "What each position is looking for." },
  { name: "value", type: "Linear", doc: "What each position passes on when attended to." },
] as const;
const PROJECTIONS = PROJECTION_FIELDS.map(({ name }) => `this.${name} = this.module("${name}", new Linear(o.nIn, o.headSize, false));`);

/** Declares the Head variant these options need and returns its class name. */
export function useHeadClass(ctx: EmitContext, scale: boolean, withDropout: boolean): string {
  return ctx.useClass("Head", `scale=${scale},dropout=${withDropout}`, "head", (name) =>
    buildClass({
      name,
      doc: "One head of causal self-attention: each position mixes the values of the positions before it, weighted by how well its query matches their keys.",
      fields: [
        ...PROJECTION_FIELDS,
        ...(scale ? [{ name: "headSize", type: "number" }] : []),
        ...(withDropout ? [{ name: "dropoutRate", type: "number" }] : []),
      ],
      ctorParams: [{ name: "o", type: `{ nIn: number; headSize: number${withDropout ? "; dropout: number" : ""} }` }],
      ctorBody: [
        ...PROJECTIONS,
        ...(scale ? ["this.headSize = o.headSize;"] : []),
        ...(withDropout ? ["this.dropoutRate = o.dropout;"] : []),
      ],
      methods: [
        {
          name: "forward",
          params: [{ name: "x", type: "tf.Tensor3D" }, CACHE_PARAM],
          returns: "tf.Tensor3D",
          body: [
            "let k = this.key.forward(x); // (B, T, hs)",
            "const q = this.query.forward(x); // (B, T, hs)",
            "let v = this.value.forward(x); // (B, T, hs)",
            "// While sampling, the keys and values of the positions before x's come from the cache.",
            "if (cache) ({ k, v } = cache.append(this, k, v)); // (B, past+T, hs)",
            ...(scale
              ? [
                  "// Affinities q·k between every pair of positions, scaled by 1/sqrt(hs) so their variance stays",
                  "// near 1 and softmax does not saturate into one-hot weights as head size grows.",
                  "let wei: tf.Tensor3D = tf.mul(tf.matMul(q, k, false, true), this.headSize ** -0.5); // (B, T, past+T)",
                ]
              : ["// Affinities q·k between every pair of positions (unscaled).", "let wei: tf.Tensor3D = tf.matMul(q, k, false, true); // (B, T, past+T)"]),
            "wei = causalMask(wei); // (B, T, past+T): a position may not look at later ones",
            "wei = tf.softmax(wei); // (B, T, past+T): each row sums to 1",
            ...(withDropout ? ["wei = dropout(wei, this.dropoutRate, this.training); // (B, T, past+T)"] : []),
            "return tf.matMul(wei, v); // (B, T, hs)",
          ],
        },
      ],
    }),
  );
}

/**
 * Declares the class that holds one head's projections inside a multi-head layer and returns its name.
 * It has no forward: the layer's one op reads every head's weights (runtime/ops/attention.ts), and the
 * per-head computation is the single-head step's (the class above). Its fields keep the parameter names
 * heads.<i>.query.weight and so on.
 */
export function useHeadProjectionsClass(ctx: EmitContext, bias = false): string {
  return ctx.useClass("Head", bias ? "projections,bias" : "projections", "head", (name) =>
    buildClass({
      name,
      doc: `One head's projections of each position: its query, key and value${bias ? " (with biases)" : ""}. The attention they compute is the multi-head layer's forward.`,
      fields: PROJECTION_FIELDS,
      ctorParams: [{ name: "o", type: "{ nIn: number; headSize: number }" }],
      ctorBody: bias ? PROJECTIONS.map((line) => line.replace(", false));", "));")) : PROJECTIONS,
      methods: [],
    }),
  );
}

export const emitAttentionHead: LayerEmitter<AttentionHeadNode> = {
  runtime: ["Linear", "causalMask", "dropout", "tf"],
  members(node, ctx, scope) {
    const cls = useHeadClass(ctx, node.scale, node.dropout > 0);
    const args: [string, string][] = [
      ["nIn", ctx.size(node.inWidth, scope)],
      ["headSize", String(node.headSize)],
    ];
    if (node.dropout > 0) args.push(["dropout", num(node.dropout)]);
    return [moduleMember(node.name, cls, args)];
  },
  forward: (node, input) => callForward(node.name, input, true),
};

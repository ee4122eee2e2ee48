// Attention maps: the weights every head of a model gives each earlier position of a prompt, read out of
// one forward pass (runtime/ops/attention-weights.ts records them). Plain data, so the CLI, the ladder's
// report and the playground draw them alike (svg.ts). No Node imports: the playground runs this too.
import { recordAttentionWeights } from "../ops/attention-weights.js";
import type { LanguageModel } from "../nn/language-model.js";
import { tf } from "../nn/tf.js";

export interface AttentionMap {
  /** The attention layer's dotted name, as its parameters are named: "head", "blocks.0.attn". */
  readonly layer: string;
  /** The head's index within the layer (0 for a single attention_head). */
  readonly head: number;
  /** weights[i][j]: how much query position i takes from position j (0 for j > i); each row sums to 1. */
  readonly weights: readonly (readonly number[])[];
}

/**
 * The attentions of a model in the order its forward runs them, from the parameter names (…query.weight):
 * a head of its own (…heads.N.query), or a layer whose one query projection serves all its heads.
 */
export function attentionHeads(model: LanguageModel): { readonly layer: string; readonly head: number }[] {
  return model
    .namedParameters()
    .map(([name]) => name)
    .filter((name) => name === "query.weight" || name.endsWith(".query.weight"))
    .map((name) => {
      const prefix = name.slice(0, -".query.weight".length);
      const m = /^(.*)\.heads\.(\d+)$/.exec(prefix);
      return m ? { layer: m[1]!, head: Number(m[2]) } : { layer: prefix, head: 0 };
    });
}

/**
 * Every head's map for the token ids `ids` (at most block_size of them; the model must be in eval mode
 * for maps without dropout). An empty list for a model without attention.
 */
export async function attentionMaps(model: LanguageModel, ids: readonly number[]): Promise<AttentionMap[]> {
  if (ids.length === 0) throw new RangeError("attentionMaps: no tokens");
  if (ids.length > model.blockSize) throw new RangeError(`attentionMaps: ${ids.length} tokens, the model's context is ${model.blockSize}`);
  const heads = attentionHeads(model);
  const { weights } = recordAttentionWeights(() =>
    tf.tidy(() => {
      model.forward(tf.tensor2d([...ids], [1, ids.length], "int32"));
    }),
  );
  try {
    if (weights.length !== heads.length) throw new Error(`attentionMaps: the forward ran ${weights.length} attentions, the model has ${heads.length}`);
    // Read with await: a GPU backend (webgpu) may have no synchronous read.
    // A head of its own records (B, T, T); a layer that runs all its heads at once (grouped-query, RoPE)
    // records (B, H, T, T), and its H maps are its heads in order.
    const read = await Promise.all(weights.map(async (w) => (w.rank === 4 ? ((await w.array()) as number[][][][])[0]! : [((await w.array()) as number[][][])[0]!])));
    return heads.flatMap((h, i) => read[i]!.map((rows, j) => ({ layer: h.layer, head: h.head + j, weights: rows })));
  } finally {
    for (const w of weights) w.dispose();
  }
}

/** How a token reads in a map's labels: whitespace made visible. */
export function tokenLabel(text: string): string {
  return text.replace(/ /g, "␣").replace(/\n/g, "↵").replace(/\t/g, "⇥").replace(/\r/g, "␍") || "∅";
}

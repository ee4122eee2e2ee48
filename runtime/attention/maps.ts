// Attention maps: the weights every head of a model gives each earlier position of a prompt, read out of
// one forward pass (runtime/ops/attention-weights.ts records them). Plain data, so the CLI, the ladder's
// report and the playground draw them alike (svg.ts). No Node imports: the playground runs this too.
import { recordAttentionWeights } from "../ops/attention-weights.js";
import type { LanguageModel } from "../nn/language-model.js";
import { tf } from "../nn/tf.js";

export interface AttentionMap {
  /** The attention layer's dotted name, as its parameters are named: "head", "blocks.0.attn". */
  readonly layer: string;
  /** Which application of the layer (from 0), for a layer a shared repeat applies several times; else absent. */
  readonly application?: number;
  /** The head's index within the layer (0 for a single attention_head). */
  readonly head: number;
  /** weights[i][j]: how much query position i takes from position j (0 for j > i); each row sums to 1. */
  readonly weights: readonly (readonly number[])[];
}

/**
 * The attentions of a model in the order its forward runs them, from the parameter names (…query.weight):
 * a head of its own (…heads.N.query), or a layer whose one query projection serves all its heads. Below a
 * shared repeat the forward runs the repeated module's attentions once per application, in turn.
 */
export function attentionHeads(model: LanguageModel): { readonly layer: string; readonly head: number; readonly application?: number }[] {
  const once = model
    .namedParameters()
    .map(([name]) => name)
    .filter((name) => name === "query.weight" || name.endsWith(".query.weight"))
    .map((name) => {
      const prefix = name.slice(0, -".query.weight".length);
      const m = /^(.*)\.heads\.(\d+)$/.exec(prefix);
      return m ? { layer: m[1]!, head: Number(m[2]) } : { layer: prefix, head: 0 };
    });
  // The outermost shared modules, each with the number of times the forward applies it.
  const shared = model.namedModules().filter((m, _, all) => m.times > 1 && !all.some((o) => o.times > 1 && m.name.startsWith(`${o.name}.`)));
  const out: { layer: string; head: number; application?: number }[] = [];
  for (let i = 0; i < once.length; ) {
    const owner = shared.find((m) => once[i]!.layer.startsWith(`${m.name}.`));
    if (!owner) {
      out.push(once[i]!);
      i++;
      continue;
    }
    let end = i;
    while (end < once.length && once[end]!.layer.startsWith(`${owner.name}.`)) end++;
    for (let a = 0; a < owner.times; a++) for (const h of once.slice(i, end)) out.push({ ...h, application: a });
    i = end;
  }
  return out;
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
    return heads.flatMap((h, i) => read[i]!.map((rows, j) => ({ layer: h.layer, ...(h.application === undefined ? {} : { application: h.application }), head: h.head + j, weights: rows })));
  } finally {
    for (const w of weights) w.dispose();
  }
}

/** A map's layer as its labels name it: the layer, and which application of it for a shared one (blocks.0.attn ×2). */
export function mapLayer(map: Pick<AttentionMap, "layer" | "application">): string {
  return map.application === undefined ? map.layer : `${map.layer} ×${map.application + 1}`;
}

/** How a token reads in a map's labels: whitespace made visible. */
export function tokenLabel(text: string): string {
  return text.replace(/ /g, "␣").replace(/\n/g, "↵").replace(/\t/g, "⇥").replace(/\r/g, "␍") || "∅";
}

// The vocabulary size a spec will train with, for `inspect`: GPT-2's is fixed and so is a learned BPE's
// (what the spec asks for); characters and a compacted BPE vocabulary depend on the corpus, which is
// prepared (or found in the token cache) to know it.
import type { Spec } from "../../compiler/index.js";
import { prepareData } from "./prepare.js";
import { GPT2_VOCAB } from "./tokenizer.js";

export async function vocabForSpec(spec: Spec, data?: string): Promise<{ size: number; source: string }> {
  const t = spec.data.tokenizer;
  if (t === "gpt2" && !spec.data.compact_vocab) return { size: GPT2_VOCAB, source: "GPT-2" };
  if (typeof t === "object") return { size: t.vocab_size, source: "data.tokenizer.vocab_size" };
  const prepared = await prepareData({ data, tokenizer: { learn: t, compact: spec.data.compact_vocab }, valFraction: spec.data.val_fraction });
  return { size: prepared.tokenizer.vocabSize, source: prepared.corpus.path };
}

// The vocabulary size a spec will train with, for `inspect`: GPT-2's is fixed; characters and a compacted
// BPE vocabulary depend on the corpus.
import type { Spec } from "../../compiler/index.js";
import { loadCorpus } from "./corpus.js";
import { buildTokenizer, GPT2_VOCAB } from "./tokenizer.js";

export async function vocabForSpec(spec: Spec, data?: string): Promise<{ size: number; source: string }> {
  if (spec.data.tokenizer === "gpt2" && !spec.data.compact_vocab) return { size: GPT2_VOCAB, source: "GPT-2" };
  const corpus = await loadCorpus({ data });
  return { size: buildTokenizer(spec.data.tokenizer, corpus.text, spec.data.compact_vocab).vocabSize, source: corpus.path };
}

// A corpus tokenized and split: the first (1 - val_fraction) of the tokens train, the rest validate, as in
// the lecture. Checks that both splits can hold the windows a spec asks for.
import type { DataSpec } from "../../compiler/index.js";
import { UserError } from "../errors.js";
import type { Corpus } from "./corpus.js";
import { tokenize, type EncodeProgress, type Tokenizer } from "./tokenizer.js";

export interface Dataset {
  readonly tokenizer: Tokenizer;
  readonly train: Int32Array;
  readonly val: Int32Array;
}

/** `tokenizer`: a run's own (resuming, evaluating); otherwise built from the corpus in the same pass that encodes it. */
export function buildDataset(corpus: Corpus, data: DataSpec, tokenizer?: Tokenizer, onProgress?: EncodeProgress): Dataset {
  const { tokenizer: tok, ids } = tokenizer
    ? { tokenizer, ids: tokenizer.encode(corpus.text, onProgress) }
    : tokenize(data.tokenizer, corpus.text, data.compact_vocab, onProgress ? { onProgress } : {});
  const n = Math.floor((1 - data.val_fraction) * ids.length);
  return { tokenizer: tok, train: ids.subarray(0, n), val: ids.subarray(n) };
}

/** Every split must hold at least one window of block_size + 1 tokens (inputs plus the shifted target). */
export function checkSplits(ds: Dataset, blockSize: number, corpusPath: string): void {
  const need = blockSize + 1;
  const total = ds.train.length + ds.val.length;
  if (total < need) {
    throw new UserError(`${corpusPath} has ${total} tokens, fewer than block_size + 1 = ${need}; use a longer corpus or a smaller model.block_size`);
  }
  for (const [name, split] of [["train", ds.train], ["val", ds.val]] as const) {
    if (split.length < need) {
      throw new UserError(`the ${name} split of ${corpusPath} has ${split.length} tokens, fewer than one window of block_size + 1 = ${need}; change data.val_fraction or use a longer corpus`);
    }
  }
}

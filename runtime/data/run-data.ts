// The token splits a command trains or evaluates on, from the token cache: a new run's corpus with the
// spec's tokenizer, or a run's own corpus (runtime/data/run-corpus.ts) with the run's own tokenizer (found
// in the spec's cache entry when it holds that tokenizer, which is the usual case).
import type { Spec } from "../../compiler/index.js";
import type { TokenizerState } from "./tokenizer.js";
import { checkSplits, type Dataset } from "./dataset.js";
import { prepareData, type PrepareReporter } from "./prepare.js";
import { corpusForRun, type CorpusRecord, type RunCorpusOptions } from "./run-corpus.js";

export interface RunData {
  readonly corpus: CorpusRecord;
  readonly dataset: Dataset & { readonly files: NonNullable<Dataset["files"]> };
}

export interface DataFor {
  /** A run to continue or evaluate: its directory, recorded corpus and tokenizer. */
  readonly run?: { readonly dir: string; readonly corpus: CorpusRecord | undefined; readonly tokenizer: TokenizerState };
  readonly options: RunCorpusOptions;
  readonly spec: Pick<Spec, "data" | "model">;
  readonly report?: PrepareReporter;
  /** Refuse splits shorter than a window (training; evaluation reads what there is). */
  readonly checkWindows?: boolean;
  /** Ctrl-C during a preparation: abandon it (nothing is cached). */
  readonly shouldStop?: () => boolean;
}

export async function dataFor(what: DataFor): Promise<RunData> {
  const { spec, run, options, report } = what;
  const learned = { learn: spec.data.tokenizer, compact: spec.data.compact_vocab };
  let data = options.data;
  let textField = options.textField;
  if (run) {
    const found = await corpusForRun(run.dir, run.corpus, options);
    if (found.note) report?.log(found.note);
    data = found.data;
    textField = found.textField;
  }
  const prepared = await prepareData({
    data,
    textField,
    tokenizer: run ? { fixed: run.tokenizer, learned } : learned,
    valFraction: spec.data.val_fraction,
    ...(report ? { report } : {}),
    ...(what.shouldStop ? { shouldStop: what.shouldStop } : {}),
  });
  const e = prepared.entry;
  const dataset = {
    tokenizer: prepared.tokenizer,
    train: prepared.train,
    val: prepared.val,
    files: { train: e.train, val: e.val, dtype: e.manifest.dtype, ...(e.tokenizerJson ? { tokenizerJson: e.tokenizerJson } : {}) },
  };
  if (what.checkWindows !== false) checkSplits(dataset, spec.model.block_size, prepared.corpus.path);
  return { corpus: prepared.corpus, dataset };
}

// `babygpt data`: prepare a corpus's tokens once (the token cache), describe a tokenizer, inspect a corpus.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { UserError } from "../../errors.js";
import { parseFloatOption, parseIntOption, SET_HELP, repeatable } from "../parse.js";

/** --tokenizer char | gpt2 | bpe:N */
function parseTokenizer(value: string): "char" | "gpt2" | { type: "bpe"; vocab_size: number } {
  if (value === "char" || value === "gpt2") return value;
  const m = /^bpe:(\d+)$/.exec(value);
  if (m && Number(m[1]) >= 258) return { type: "bpe", vocab_size: Number(m[1]) };
  throw new InvalidArgumentError(`--tokenizer must be char, gpt2 or bpe:N (N ≥ 258 tokens), got "${value}"`);
}

const DATA_HELP = "corpus: a file, a directory or a glob of .txt/.jsonl files (gzip too), each a document (default: $BABYGPT_DATA_DIR, the cache, or a download)";

export function registerData(program: Command): void {
  const data = program.command("data").description("prepare a corpus's tokens, describe a tokenizer, inspect a corpus");
  data
    .command("prepare")
    .description("tokenize a corpus once into the token cache (train.bin, val.bin, manifest.json; tokenizer.json for a learned BPE), as the first training on it would")
    .option("--data <path>", DATA_HELP)
    .option("--spec <spec>", "take the tokenizer and val_fraction from this spec")
    .option("--set <key=value>", SET_HELP, repeatable)
    .option("--tokenizer <t>", "char, gpt2 or bpe:N (a byte-level BPE of N tokens learned on the training split); default char, or the spec's", parseTokenizer)
    .option("--compact", "gpt2: keep only the tokens the corpus uses")
    .option("--val-fraction <f>", "share held out for validation (default 0.1, or the spec's)", parseFloatOption("--val-fraction", 0))
    .option("--text-field <name>", "the field of a .jsonl line that holds its text", "text")
    .option("--workers <n>", "worker threads (default: one per core)", parseIntOption("--workers", 1))
    .option("--verify", "when the entry is in the cache, hash its token files against its manifest too (a mismatch is prepared again)")
    .action(async (opts: { data?: string; spec?: string; set?: string[]; tokenizer?: ReturnType<typeof parseTokenizer>; compact?: boolean; valFraction?: number; textField: string; workers?: number; verify?: boolean }) => {
      const { loadSpec } = await import("../../../compiler/index.js");
      const { prepareData, tokenizerName } = await import("../../data/prepare.js");
      const { progress } = await import("../progress.js");
      const specData = opts.spec ? loadSpec(opts.spec, { sets: opts.set ?? [] }).spec.data : undefined;
      const tokenizer = opts.tokenizer ?? specData?.tokenizer ?? "char";
      const valFraction = opts.valFraction ?? specData?.val_fraction ?? 0.1;
      if (!(valFraction > 0 && valFraction < 1)) throw new UserError(`--val-fraction must be between 0 and 1, got ${valFraction}`);
      let bar: ReturnType<typeof progress> | undefined;
      let barOf = "";
      const prepared = await prepareData({
        data: opts.data,
        textField: opts.textField,
        tokenizer: { learn: tokenizer, compact: opts.compact ?? specData?.compact_vocab ?? false },
        valFraction,
        verbose: true,
        ...(opts.workers ? { workers: opts.workers } : {}),
        ...(opts.verify ? { verify: true } : {}),
        report: {
          log: (line) => (bar ? bar.log(line) : console.error(line)),
          progress: (what, done, total, rate) => {
            if (barOf !== what) {
              bar?.done();
              bar = progress(what === "merges" ? "merges" : `${what} (MB)`, total);
              barOf = what;
            }
            bar!.update(done, rate);
            if (done >= total) {
              bar!.done();
              bar = undefined;
              barOf = "";
            }
          },
        },
      });
      bar?.done();
      const m = prepared.entry.manifest;
      console.log(`${prepared.hit ? "found in the token cache" : "prepared"}: ${prepared.corpus.path} with ${tokenizerName(tokenizer)}`);
      console.log(`tokens:    ${m.tokens.train.toLocaleString("en-US")} train / ${m.tokens.val.toLocaleString("en-US")} val (${m.dtype}), vocab ${m.vocabSize.toLocaleString("en-US")}; split ${m.split.description}`);
      console.log(`documents: ${m.documents.toLocaleString("en-US")} in ${m.sources.length} file${m.sources.length === 1 ? "" : "s"}${m.emptyFiles ? `, ${m.emptyFiles} empty file${m.emptyFiles === 1 ? "" : "s"} skipped` : ""}${m.emptyDocuments ? `, ${m.emptyDocuments} empty document${m.emptyDocuments === 1 ? "" : "s"} skipped` : ""}`);
      console.log(`entry:     ${prepared.entry.dir}${prepared.entry.tokenizerJson ? ` (tokenizer.json: Hugging Face's format)` : ""}`);
    });
  data
    .command("tokenizer")
    .description("a run's or a spec's tokenizer: vocabulary size, a learned BPE's merges, and a sample segmentation")
    .argument("<run-or-spec>", "a run directory, or a spec (its tokenizer is prepared on --data, or found in the token cache)")
    .option("--data <path>", DATA_HELP)
    .option("--text <text>", "the sample to segment (default: the start of the corpus's val split)")
    .action(async (target: string, opts: { data?: string; text?: string }) => {
      const { describeTokenizer } = await import("../../data/describe-tokenizer.js");
      const { tokenizerFromState } = await import("../../data/tokenizer.js");
      const { sampleText } = await import("../../data/sample-text.js");
      const isRun = existsSync(target) && statSync(target).isDirectory();
      if (isRun) {
        const { loadCheckpoint } = await import("../../checkpoint/checkpoint.js");
        const { meta } = loadCheckpoint(target, { recover: false });
        const tokenizer = tokenizerFromState(meta.tokenizer);
        const json = join(target, "tokenizer.json");
        const sample = opts.text ?? "First Citizen:\nBefore we proceed any further, hear me speak.";
        for (const line of describeTokenizer(tokenizer, sample, existsSync(json) ? `${json} (Hugging Face's tokenizer.json)` : undefined)) console.log(line);
        return;
      }
      const { loadSpec } = await import("../../../compiler/index.js");
      const { prepareData } = await import("../../data/prepare.js");
      const { spec } = loadSpec(target);
      const prepared = await prepareData({ data: opts.data, tokenizer: { learn: spec.data.tokenizer, compact: spec.data.compact_vocab }, valFraction: spec.data.val_fraction, report: { log: (line) => console.error(line) } });
      const sample = opts.text ?? sampleText(prepared.tokenizer, prepared.val);
      for (const line of describeTokenizer(prepared.tokenizer, sample, prepared.entry.tokenizerJson ? `${prepared.entry.tokenizerJson} (Hugging Face's tokenizer.json)` : undefined)) console.log(line);
    });
  data
    .command("inspect")
    .description("length, vocabulary, a preview, token counts per tokenizer and the train/val split (a corpus that fits in memory)")
    .option("--data <path>", "corpus file or directory (default: $BABYGPT_DATA_DIR, the cache, or a download)")
    .option("--spec <spec>", "take val_fraction from this spec")
    .option("--val-fraction <f>", "share held out for validation", parseFloatOption("--val-fraction", 0))
    .action(async (opts: { data?: string; spec?: string; valFraction?: number }) => {
      const { loadSpec } = await import("../../../compiler/index.js");
      const { loadCorpus } = await import("../../data/corpus.js");
      const { buildTokenizer, tokenize } = await import("../../data/tokenizer.js");
      const corpus = await loadCorpus({ data: opts.data, onProgress: (r) => process.stderr.write(`\rdownloading… ${r} bytes`) });
      const valFraction = opts.valFraction ?? (opts.spec ? loadSpec(opts.spec).spec.data.val_fraction : 0.1);
      const chars = buildTokenizer("char", corpus.text, false);
      const vocab = chars.state().kind === "char" ? (chars.state() as { chars: string }).chars : "";
      // one BPE encoding gives both the token count and the tokens used
      const bpe = tokenize("gpt2", corpus.text, true);
      const gpt2 = bpe.ids.length;
      const compact = bpe.tokenizer.vocabSize;
      const split = (n: number): string => {
        const train = Math.floor((1 - valFraction) * n);
        return `${train.toLocaleString("en-US")} train / ${(n - train).toLocaleString("en-US")} val`;
      };
      const length = Array.from(corpus.text).length;
      console.log(`corpus:      ${corpus.path} (from ${corpus.source}, sha256 ${corpus.sha256})`);
      console.log(`characters:  ${length.toLocaleString("en-US")}`);
      console.log(`distinct:    ${chars.vocabSize}`);
      console.log(`vocabulary:  ${JSON.stringify(vocab)}`);
      console.log(`first 200:   ${JSON.stringify(corpus.text.slice(0, 200))}`);
      console.log(`tokens:      char ${length.toLocaleString("en-US")} (vocab ${chars.vocabSize}); gpt2 ${gpt2.toLocaleString("en-US")} (vocab 50,257, ${compact.toLocaleString("en-US")} of them used)`);
      console.log(`split:       ${Math.round((1 - valFraction) * 100)}/${Math.round(valFraction * 100)}: char ${split(length)}; gpt2 ${split(gpt2)}`);
    });
}

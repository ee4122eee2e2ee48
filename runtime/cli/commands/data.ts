// `babygpt data inspect`: what the corpus is and how the tokenizers see it.
import type { Command } from "commander";
import { parseFloatOption } from "../parse.js";

export function registerData(program: Command): void {
  const data = program.command("data").description("inspect the training corpus");
  data
    .command("inspect")
    .description("length, vocabulary, a preview, token counts per tokenizer and the train/val split")
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

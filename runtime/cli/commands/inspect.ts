// `babygpt inspect <spec>`: a Keras-style summary of the IR: layers, output shapes, parameters, and the
// totals (parameters, FLOPs per token, activation and training memory at the spec's batch size).
import type { Command } from "commander";
import { UserError } from "../../errors.js";
import { parseIntOption, repeatable, SET_HELP } from "../parse.js";

export function registerInspect(program: Command): void {
  program
    .command("inspect")
    .description("summarize a spec: layers, output shapes, parameters, FLOPs and memory")
    .argument("<spec>", "spec file")
    .option("--vocab <n>", "vocabulary size (default: from the data, through the spec's tokenizer)", parseIntOption("--vocab"))
    .option("--data <path>", "corpus file or directory, to count the vocabulary")
    .option("--batch <n>", "batch size for the memory figures (default: training.batch_size)", parseIntOption("--batch"))
    .option("--set <key=value>", SET_HELP, repeatable)
    .action(async (specPath: string, opts: { vocab?: number; data?: string; batch?: number; set?: string[] }) => {
      const { loadSpec } = await import("../../../compiler/index.js");
      const { lowerSpec } = await import("../../../compiler/index.js");
      const { vocabForSpec } = await import("../../data/vocab.js");
      const { inspectReport } = await import("../../inspect-report.js");
      const loaded = loadSpec(specPath, { sets: opts.set ?? [] });
      const ir = lowerSpec(loaded);
      const { formatWarning } = await import("../../../compiler/index.js");
      for (const w of ir.warnings) console.error(formatWarning(w));
      const vocab = opts.vocab ?? (await vocabForSpec(loaded.spec, opts.data)).size;
      if (vocab < 1) throw new UserError("--vocab must be at least 1");
      const batch = opts.batch ?? loaded.spec.training.batch_size;
      console.log(inspectReport(loaded, ir, vocab, batch));
    });
}

// `babygpt inspect <spec>`: a Keras-style summary of the IR: layers, output shapes, parameters, and the
// totals (parameters, FLOPs per token, activation and training memory at the spec's batch size).
import type { Command } from "commander";
import { activationBytes, costs, countParams, summaryRows, trainingBytes } from "../../../compiler/ir/analysis.js";
import { lowerSpec } from "../../../compiler/ir/lower.js";
import { loadSpec } from "../../../compiler/spec/load.js";
import { UserError } from "../../errors.js";
import { formatBytes, formatFlops, formatInt, table } from "../output.js";
import { parseIntOption, repeatable, SET_HELP } from "../parse.js";
import { vocabForSpec } from "../../data/vocab.js";

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
      const loaded = loadSpec(specPath, { sets: opts.set ?? [] });
      const ir = lowerSpec(loaded);
      const vocab = opts.vocab ?? (await vocabForSpec(loaded.spec, opts.data)).size;
      if (vocab < 1) throw new UserError("--vocab must be at least 1");
      const batch = opts.batch ?? loaded.spec.training.batch_size;
      const rows = summaryRows(ir, vocab);
      console.log(`${ir.name} (${loaded.files[0]!.path}) → ${ir.className}, vocab ${formatInt(vocab)}, block_size ${ir.blockSize}\n`);
      console.log(
        table(
          ["layer", "kind", "output", "params"],
          rows.map((r) => ["  ".repeat(r.depth) + r.path, r.kind, r.output, formatInt(r.params)]),
          ["l", "l", "l", "r"],
        ),
      );
      const total = countParams(ir, vocab);
      const c = costs(ir, { vocab, T: ir.blockSize });
      console.log("");
      console.log(`parameters:            ${formatInt(total)} (${formatBytes(total * 4)} as float32)`);
      console.log(`forward FLOPs/token:   ${formatFlops(c.flopsPerToken)} at T=${ir.blockSize} (training ≈ 3×: ${formatFlops(3 * c.flopsPerToken)})`);
      console.log(`activations at B=${batch}:`.padEnd(23) + `${formatBytes(activationBytes(ir, vocab, batch))}`);
      console.log(`training memory:       ${formatBytes(trainingBytes(ir, vocab, batch))} (weights, gradients, Adam moments, activations)`);
    });
}

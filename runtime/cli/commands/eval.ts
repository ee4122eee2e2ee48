// `babygpt eval <run>`: the exact loss of a split, every token counted once, on the corpus the run was
// trained on (or, with --other-data, on another).
import type { Command } from "commander";
import { BACKENDS, type BackendChoice } from "../../backend/choices.js";
import { OTHER_DATA_FLAG } from "../../data/run-corpus.js";
import { UserError } from "../../errors.js";
import { parseIntOption } from "../parse.js";
import { progress } from "../progress.js";

export function registerEval(program: Command): void {
  program
    .command("eval")
    .description("exact loss of a run's checkpoint over a whole split (contiguous block_size windows)")
    .argument("<run>", "run directory")
    .option("--split <split>", "val or train", "val")
    .option("--batch <n>", "windows per forward pass", parseIntOption("--batch", 1), 64)
    .option("--data <path>", "corpus file or directory (default: the corpus the run was trained on)")
    .option(OTHER_DATA_FLAG, "evaluate on a --data that is not the run's own corpus")
    .option("--text-field <name>", "the field of a .jsonl line that holds its text (default: the run's own)")
    .option("--backend <name>", `tensor backend: ${BACKENDS.join(", ")}`, "auto")
    .action(async (runDir: string, opts: { split: string; batch: number; data?: string; otherData?: boolean; textField?: string; backend: BackendChoice }) => {
      if (opts.split !== "val" && opts.split !== "train") throw new UserError(`--split must be val or train, got "${opts.split}"`);
      const { openRun } = await import("../../run.js");
      const { dataFor } = await import("../../data/run-data.js");
      const { exactLoss } = await import("../../train/evaluate.js");
      const run = await openRun(runDir, opts.backend, { batch: opts.batch, what: "evaluate it" });
      // the split is streamed from the token cache, a batch of windows at a time
      const { dataset, corpus } = await dataFor({
        run: { dir: runDir, corpus: run.meta.corpus, tokenizer: run.meta.tokenizer },
        options: { data: opts.data, otherData: opts.otherData, textField: opts.textField },
        spec: run.spec,
        report: { log: (line) => console.error(line) },
        checkWindows: false,
      });
      const data = opts.split === "val" ? dataset.val : dataset.train;
      const window = run.model.blockSize + 1;
      if (data.length < window) {
        throw new UserError(`the ${opts.split} split of ${corpus.path} has ${data.length} tokens, fewer than one window of block_size + 1 = ${window}, so there is nothing to evaluate; use a longer text`);
      }
      const bar = progress("eval", Math.floor((data.length - 1) / run.model.blockSize));
      const { loss, tokens } = await exactLoss(run.model, data, opts.batch, (done) => bar.update(done));
      bar.done();
      console.log(`${opts.split} loss ${loss.toFixed(4)} (perplexity ${Math.exp(loss).toFixed(2)}) over ${tokens.toLocaleString("en-US")} tokens at step ${run.meta.step} (${run.backend.name})`);
    });
}

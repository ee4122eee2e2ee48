// `babygpt sample <run>`: streams generated text from a run's checkpoint.
import type { Command } from "commander";
import { BACKENDS, type BackendChoice } from "../../backend/choices.js";
import { UserError } from "../../errors.js";
import { MAX_SEED, parseFloatOption, parseIntOption } from "../parse.js";

export function registerSample(program: Command): void {
  program
    .command("sample")
    .description("generate text from a run's checkpoint")
    .argument("<run>", "run directory")
    .option("--prompt <text>", "text to continue (default: a newline, or the vocabulary's first token where it has no newline)")
    .option("--tokens <n>", "tokens to generate", parseIntOption("--tokens", 1), 500)
    .option("--temperature <t>", "softmax temperature; 0 always picks the most likely token", parseFloatOption("--temperature", 0), 1)
    .option("--top-k <k>", "sample only among the k most likely tokens", parseIntOption("--top-k", 1))
    .option("--top-p <p>", "sample only among the most likely tokens whose probabilities sum to p (nucleus sampling)", parseFloatOption("--top-p", 0))
    .option("--no-cache", "recompute the whole context for every token instead of keeping the attention layers' keys and values (the KV cache)")
    .option("--seed <s>", "seed for reproducible samples", parseIntOption("--seed", 0, MAX_SEED), 1337)
    .option("--backend <name>", `tensor backend: ${BACKENDS.join(", ")}`, "auto")
    .action(async (runDir: string, opts: { prompt?: string; tokens: number; temperature: number; topK?: number; topP?: number; cache: boolean; seed: number; backend: BackendChoice }) => {
      if (opts.topP !== undefined && !(opts.topP > 0 && opts.topP <= 1)) throw new UserError(`--top-p must be in (0, 1]; got ${opts.topP}`);
      const { openRun } = await import("../../run.js");
      const { streamText } = await import("../../sample.js");
      const { startContext } = await import("../../data/tokenizer.js");
      const { Prng } = await import("../../random.js");
      const run = await openRun(runDir, opts.backend);
      if (opts.prompt === "") throw new UserError("--prompt is empty; leave it out to start from the start of a line");
      let context: number[];
      if (opts.prompt === undefined) {
        context = startContext(run.tokenizer);
      } else {
        try {
          context = Array.from(run.tokenizer.encode(opts.prompt));
        } catch (e) {
          throw e instanceof UserError ? new UserError(`--prompt: ${e.message}`) : e;
        }
        process.stdout.write(opts.prompt);
      }
      const options = { tokens: opts.tokens, temperature: opts.temperature, topK: opts.topK, topP: opts.topP, cache: opts.cache, rng: new Prng(opts.seed) };
      await streamText(run.model, run.tokenizer, context, options, (text) => {
        // `sample … | head`: the reader has what it wanted; generating the rest would be for nothing
        if (process.stdout.errored) process.exit(0);
        process.stdout.write(text);
      });
      process.stdout.write("\n");
    });
}

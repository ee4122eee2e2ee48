// `babygpt sample <run>`: streams generated text from a run's checkpoint.
import type { Command } from "commander";
import { BACKENDS, type BackendChoice } from "../../backend/select.js";
import { UserError } from "../../errors.js";
import { Prng } from "../../random.js";
import { openRun } from "../../run.js";
import { generate } from "../../sample.js";
import { parseFloatOption, parseIntOption } from "../parse.js";

export function registerSample(program: Command): void {
  program
    .command("sample")
    .description("generate text from a run's checkpoint")
    .argument("<run>", "run directory")
    .option("--prompt <text>", "text to continue (default: a newline)")
    .option("--tokens <n>", "tokens to generate", parseIntOption("--tokens", 1), 500)
    .option("--temperature <t>", "softmax temperature; 0 always picks the most likely token", parseFloatOption("--temperature", 0), 1)
    .option("--top-k <k>", "sample only among the k most likely tokens", parseIntOption("--top-k", 1))
    .option("--seed <s>", "seed for reproducible samples", parseIntOption("--seed", 0), 1337)
    .option("--backend <name>", `tensor backend: ${BACKENDS.join(", ")}`, "auto")
    .action(async (runDir: string, opts: { prompt?: string; tokens: number; temperature: number; topK?: number; seed: number; backend: BackendChoice }) => {
      const run = await openRun(runDir, opts.backend);
      const prompt = opts.prompt ?? "\n";
      if (prompt.length === 0) throw new UserError("--prompt is empty; leave it out to start from a newline");
      let context: number[];
      try {
        context = Array.from(run.tokenizer.encode(prompt));
      } catch (e) {
        throw e instanceof UserError ? new UserError(`--prompt: ${e.message}`) : e;
      }
      process.stdout.write(opts.prompt ?? "");
      const produced: number[] = [];
      let printed = "";
      generate(run.model, context, { tokens: opts.tokens, temperature: opts.temperature, topK: opts.topK, rng: new Prng(opts.seed) }, (id) => {
        produced.push(id);
        // Decode everything so far and print what is new: a BPE token can end in the middle of a character.
        const text = run.tokenizer.decode(produced);
        if (!text.endsWith("\uFFFD") && text.length > printed.length) {
          process.stdout.write(text.slice(printed.length));
          printed = text;
        }
      });
      const final = run.tokenizer.decode(produced);
      if (final.length > printed.length) process.stdout.write(final.slice(printed.length));
      process.stdout.write("\n");
    });
}

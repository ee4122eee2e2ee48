// `babygpt sample <run>`: streams generated text from a run's checkpoint; with --num-samples N, N samples
// drawn as one batch (sample i as a single sample with seed + i gives it), each written when done. The
// speed (tokens/s, and what ran the model) goes to stderr at the end, unless --quiet.
import type { Command } from "commander";
import { BACKENDS, type BackendChoice } from "../../backend/choices.js";
import { UserError } from "../../errors.js";
import { MAX_SEED, parseFloatOption, parseIntOption } from "../parse.js";

/** The most samples one batch draws: the native decoder's limit, and far past what a terminal shows. */
const MAX_SAMPLES = 4096;

/** What nanoGPT's sample.py prints between samples. */
export const SAMPLE_SEPARATOR = "---------------";

interface SampleFlags {
  prompt?: string;
  tokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  cache: boolean;
  seed: number;
  numSamples: number;
  quiet?: boolean;
  backend: BackendChoice;
}

export function registerSample(program: Command): void {
  program
    .command("sample")
    .description("generate text from a run's checkpoint")
    .argument("<run>", "run directory")
    .option("--prompt <text>", "text to continue (default: a newline, or the vocabulary's first token where it has no newline)")
    .option("--tokens <n>", "tokens to generate", parseIntOption("--tokens", 1), 500)
    .option("--num-samples <n>", `samples to draw, as one batch; sample i is the one --seed plus i gives alone (at most ${MAX_SAMPLES})`, parseIntOption("--num-samples", 1, MAX_SAMPLES), 1)
    .option("--temperature <t>", "softmax temperature; 0 always picks the most likely token", parseFloatOption("--temperature", 0), 1)
    .option("--top-k <k>", "sample only among the k most likely tokens", parseIntOption("--top-k", 1))
    .option("--top-p <p>", "sample only among the most likely tokens whose probabilities sum to p (nucleus sampling)", parseFloatOption("--top-p", 0))
    .option("--no-cache", "recompute the whole context for every token instead of keeping the attention layers' keys and values (the KV cache)")
    .option("--seed <s>", "seed for reproducible samples", parseIntOption("--seed", 0, MAX_SEED), 1337)
    .option("--quiet", "no tokens/s line on stderr at the end")
    .option("--backend <name>", `tensor backend: ${BACKENDS.join(", ")}`, "auto")
    .action(async (runDir: string, opts: SampleFlags) => {
      if (opts.topP !== undefined && !(opts.topP > 0 && opts.topP <= 1)) throw new UserError(`--top-p must be in (0, 1]; got ${opts.topP}`);
      if (opts.seed + opts.numSamples - 1 > MAX_SEED) {
        throw new UserError(`--seed ${opts.seed} with --num-samples ${opts.numSamples} asks for seeds up to ${opts.seed + opts.numSamples - 1}, past ${MAX_SEED} (seeds are 32-bit)`);
      }
      if (opts.prompt === "") throw new UserError("--prompt is empty; leave it out to start from the start of a line");
      const { openRun } = await import("../../run.js");
      const { generateBatch } = await import("../../sample.js");
      const { startContext } = await import("../../data/tokenizer.js");
      const { Prng } = await import("../../random.js");
      const { decodePlan } = await import("../../../compiler/index.js");
      const run = await openRun(runDir, opts.backend, { batch: opts.numSamples, what: "sample from it" });
      let context: number[];
      try {
        context = opts.prompt === undefined ? startContext(run.tokenizer) : Array.from(run.tokenizer.encode(opts.prompt));
      } catch (e) {
        throw e instanceof UserError ? new UserError(`--prompt: ${e.message}`) : e;
      }
      const rngs = Array.from({ length: opts.numSamples }, (_, i) => new Prng(opts.seed + i));
      const options = { tokens: opts.tokens, temperature: opts.temperature, topK: opts.topK, topP: opts.topP, cache: opts.cache, rngs, plan: decodePlan(run.ir, run.meta.vocabSize) };
      // `sample … | head`: the reader has what it wanted; generating the rest would be for nothing
      const write = (text: string): void => {
        if (process.stdout.errored) process.exit(0);
        process.stdout.write(text);
      };
      const began = performance.now();
      let path: { kind: string; why?: string };
      if (opts.numSamples === 1) {
        // One sample streams as it is drawn, each token's text as soon as the tokenizer completes it.
        if (opts.prompt !== undefined) write(opts.prompt);
        const decoder = run.tokenizer.decoder();
        ({ path } = await generateBatch(run.model, context, options, (_, id) => {
          const text = decoder.push(id);
          if (text) write(text);
        }));
        write(`${decoder.end()}\n`);
      } else {
        const { progress } = await import("../progress.js");
        const bar = progress("sampling", opts.tokens, process.stderr, opts.quiet === true, { finalLine: false });
        let drawn = 0;
        const result = await generateBatch(run.model, context, options, (i) => {
          if (i === 0) bar.update(++drawn);
        });
        bar.done();
        path = result.path;
        result.sequences.forEach((ids, i) => {
          if (i > 0) write(`${SAMPLE_SEPARATOR}\n`);
          write(`${opts.prompt ?? ""}${run.tokenizer.decode(ids)}\n`);
        });
      }
      if (!opts.quiet) process.stderr.write(`${speedLine(opts.numSamples, opts.tokens, (performance.now() - began) / 1000, path, run.backend.name)}\n`);
    });
}

/** `500 tokens in 0.41 s: 1,219 tokens/s (the decode plan on native)`: what the CLI says at the end. */
export function speedLine(samples: number, tokens: number, seconds: number, path: { kind: string; why?: string }, backend: string): string {
  const total = samples * tokens;
  const rate = Math.round(total / Math.max(seconds, 1e-9)).toLocaleString("en-US");
  const what = samples === 1 ? `${tokens} tokens` : `${samples} samples × ${tokens} tokens`;
  const how = path.kind === "plan" ? `the decode plan on ${backend}` : `the generated forward on ${backend}${path.why ? `: ${path.why}` : ""}`;
  return `${what} in ${seconds.toFixed(2)} s: ${rate} tokens/s (${how})`;
}

// `babygpt demo`: the main job in one command (npm start): train the default small spec for a short
// budget with a progress bar, then print a sample from it.
import { join } from "node:path";
import type { Command } from "commander";
import { BACKENDS, type BackendChoice } from "../../backend/choices.js";
import { PROJECT_ROOT } from "../../paths.js";
import { keepGoingWithoutOutput } from "../broken-output.js";
import { parseIntOption } from "../parse.js";
import { onStopSignals } from "../stop-signals.js";
import { trainReporter } from "../train-reporter.js";

export const DEMO_SPEC = "specs/12-baby-gpt.yaml";

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description(`train ${DEMO_SPEC} briefly and print a sample (what \`npm start\` runs)`)
    .argument("[spec]", `spec to train (default: babygpt's own ${DEMO_SPEC})`)
    .option("--iters <n>", "optimizer steps", parseIntOption("--iters", 1), 500)
    .option("--tokens <n>", "characters to sample", parseIntOption("--tokens", 1), 300)
    .option("--data <path>", "corpus file or directory")
    .option("--backend <name>", `tensor backend: ${BACKENDS.join(", ")}`, "auto")
    .action(async (given: string | undefined, opts: { iters: number; tokens: number; data?: string; backend: BackendChoice }) => {
      const { train } = await import("../../train/trainer.js");
      const { openRun } = await import("../../run.js");
      const { streamText } = await import("../../sample.js");
      const { startContext } = await import("../../data/tokenizer.js");
      const { Prng } = await import("../../random.js");
      const reporter = trainReporter();
      const stop = onStopSignals((what) => reporter.log(`${what}: stopping after this step and saving a checkpoint`));
      keepGoingWithoutOutput();
      const spec = given ?? join(PROJECT_ROOT, DEMO_SPEC);
      try {
        const result = await train({
          spec,
          iters: opts.iters,
          data: opts.data,
          backend: opts.backend,
          sets: [`training.eval_interval=${opts.iters}`],
          shouldStop: stop.requested,
          reporter,
        });
        const last = result.evals.at(-1);
        console.log(`\n${result.step} steps in ${((result.msPerIter * result.step) / 1000).toFixed(0)} s on ${result.backend.name}` + (last ? `: train loss ${last.train.toFixed(3)}, val loss ${last.val.toFixed(3)}` : ""));
        console.log(`run directory: ${result.runDir}\n\n--- sample ---`);
        const run = await openRun(result.runDir, opts.backend);
        const { decodePlan } = await import("../../../compiler/index.js");
        const plan = decodePlan(run.ir, run.meta.vocabSize);
        await streamText(run.model, run.tokenizer, startContext(run.tokenizer), { tokens: opts.tokens, temperature: 1, rng: new Prng(1337), plan }, (text) => process.stdout.write(text));
        process.stdout.write("\n");
      } finally {
        stop.dispose();
      }
    });
}

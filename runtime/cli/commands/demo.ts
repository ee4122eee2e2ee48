// `babygpt demo`: the main job in one command (npm start): train the default small spec for a short
// budget with a progress bar, then print a sample from it.
import { join } from "node:path";
import type { Command } from "commander";
import { BACKENDS, type BackendChoice } from "../../backend/select.js";
import { PROJECT_ROOT } from "../../paths.js";
import { Prng } from "../../random.js";
import { openRun } from "../../run.js";
import { generate } from "../../sample.js";
import { train } from "../../train/trainer.js";
import { parseIntOption } from "../parse.js";
import { progress, type Progress } from "../progress.js";

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
      let bar: Progress | undefined;
      let stop = false;
      const onSigint = (): void => {
        if (stop) process.exit(130);
        stop = true;
      };
      process.on("SIGINT", onSigint);
      const spec = given ?? join(PROJECT_ROOT, DEMO_SPEC);
      try {
        const result = await train({
          spec,
          iters: opts.iters,
          data: opts.data,
          backend: opts.backend,
          sets: [`training.eval_interval=${opts.iters}`],
          shouldStop: () => stop,
          reporter: {
            log: (line) => (bar ? bar.log(line) : console.error(line)),
            step: (step, max, loss, tps) => {
              bar ??= progress("train", max);
              bar.update(step, `loss ${loss.toFixed(4)} | ${Math.round(tps).toLocaleString("en-US")} tok/s`);
            },
            done: () => bar?.done(),
          },
        });
        const last = result.evals.at(-1);
        console.log(`\n${result.step} steps in ${((result.msPerIter * result.step) / 1000).toFixed(0)} s on ${result.backend.name}` + (last ? `: train loss ${last.train.toFixed(3)}, val loss ${last.val.toFixed(3)}` : ""));
        console.log(`run directory: ${result.runDir}\n\n--- sample ---`);
        const run = await openRun(result.runDir, opts.backend);
        const produced: number[] = [];
        generate(run.model, Array.from(run.tokenizer.encode("\n")), { tokens: opts.tokens, temperature: 1, rng: new Prng(1337) }, (id) => {
          produced.push(id);
          if (run.tokenizer.kind === "char") process.stdout.write(run.tokenizer.decode([id]));
        });
        if (run.tokenizer.kind !== "char") process.stdout.write(run.tokenizer.decode(produced));
        process.stdout.write("\n");
      } finally {
        process.off("SIGINT", onSigint);
      }
    });
}

// `babygpt parity <spec>`: the spec built twice with the same random weights, as babygpt's TypeScript
// model and as the PyTorch module the compiler emits from it, and the worst relative error of the logits,
// the loss, every gradient and a few optimizer steps' losses, judged by the parity tests' own tolerances
// (runtime/parity/, which the tests run too). Exit 0 within them, 1 beyond them, 2 for bad input or
// without PyTorch.
import { InvalidArgumentError, type Command } from "commander";
import { BACKENDS, type BackendChoice } from "../../backend/choices.js";
import { UserError } from "../../errors.js";
import { PARITY_KINDS, type ParityKind } from "../../parity/tolerances.js";
import { parseIntOption, repeatable, SET_HELP } from "../parse.js";

interface ParityFlags {
  backend: BackendChoice;
  set?: string[];
  vocab?: number;
  data?: string;
  batch: number;
  context?: number;
  steps: number;
  tolerance?: Map<ParityKind, number>;
  torchModule?: string;
  verbose?: boolean;
}

function parseTolerance(value: string, previous: Map<ParityKind, number> = new Map()): Map<ParityKind, number> {
  const m = /^([a-z]+)=(.+)$/.exec(value.trim());
  const kind = m?.[1] as ParityKind | undefined;
  const n = Number(m?.[2]);
  if (!m || !PARITY_KINDS.includes(kind!)) throw new InvalidArgumentError(`--tolerance needs kind=value with kind one of ${PARITY_KINDS.join(", ")}, e.g. --tolerance grad=1e-4; got "${value}"`);
  if (!(Number.isFinite(n) && n >= 0)) throw new InvalidArgumentError(`--tolerance ${kind} needs a number of 0 or more; got "${m[2]}"`);
  return new Map(previous).set(kind!, n);
}

export function registerParity(program: Command): void {
  program
    .command("parity")
    .description("check that a spec computes the same in TypeScript and PyTorch: same weights, same logits, loss, gradients and optimizer steps (exit 1 beyond the parity tests' tolerances)")
    .argument("<spec>", "spec file")
    .option("--backend <name>", `babygpt's tensor backend: ${BACKENDS.join(", ")}`, "auto")
    .option("--set <key=value>", SET_HELP, repeatable)
    .option("--vocab <n>", "vocabulary size (default: from the data, through the spec's tokenizer)", parseIntOption("--vocab", 1))
    .option("--data <path>", "corpus file or directory, to count the vocabulary")
    .option("--batch <n>", "sequences in the batch both sides compute", parseIntOption("--batch", 1, 64), 2)
    .option("--context <n>", "positions per sequence (default: the spec's block_size)", parseIntOption("--context", 1))
    .option("--steps <n>", "steps of SGD, Adam and AdamW whose losses are compared (0: none)", parseIntOption("--steps", 0, 100), 5)
    .option("--tolerance <kind=value>", `a relative error to allow instead of the tests' (kinds: ${PARITY_KINDS.join(", ")}; repeatable)`, parseTolerance)
    .option("--torch-module <file>", "check this PyTorch module (one `babygpt compile --target pytorch` wrote, or edited) instead of the one compiled from the spec now")
    .option("--verbose", "also list every parameter's gradient error and each optimizer's losses")
    .action(async (specPath: string, opts: ParityFlags) => {
      const { existsSync, mkdtempSync, rmSync } = await import("node:fs");
      const { tmpdir } = await import("node:os");
      const { join, resolve } = await import("node:path");
      const { countParams, formatWarning, loadSpec, lowerSpec } = await import("../../../compiler/index.js");
      const { probeTorch } = await import("../../torch/probe.js");

      if (opts.torchModule !== undefined && !existsSync(opts.torchModule)) throw new UserError(`--torch-module ${opts.torchModule}: no such file`);
      // Importing torch takes seconds: the probe runs while the spec is read and the model built.
      const abort = new AbortController();
      const probing = probeTorch(abort.signal, "babygpt parity");
      probing.catch(() => undefined); // awaited below
      try {
        const loaded = loadSpec(specPath, { sets: opts.set ?? [] });
        const ir = lowerSpec(loaded);
        for (const w of ir.warnings) console.error(formatWarning(w));
        const T = opts.context ?? ir.blockSize;
        if (T > ir.blockSize) throw new UserError(`--context ${T} is more than the spec's block_size ${ir.blockSize}`);
        const { vocabForSpec } = await import("../../data/vocab.js");
        const vocab = opts.vocab ?? (await vocabForSpec(loaded.spec, opts.data)).size;
        const torch = await probing;

        const { selectBackend } = await import("../../backend/select.js");
        const { emittedModel } = await import("../../model-source.js");
        const { checkParity, PARITY_OPTIMIZERS } = await import("../../parity/check.js");
        const { PARITY_TOLERANCES } = await import("../../parity/tolerances.js");
        const { ReferenceFailed } = await import("../../parity/reference.js");
        const { parityReport } = await import("../parity-report.js");
        const { formatInt } = await import("../../../util/format.js");

        const backend = await selectBackend(opts.backend);
        const module = await emittedModel(ir);
        const tolerances = { ...PARITY_TOLERANCES, ...Object.fromEntries(opts.tolerance ?? []) };
        const against = opts.torchModule ? resolve(opts.torchModule) : "the module compiled from the same spec";
        console.log(`${ir.name} (${loaded.files[0]!.path}): ${formatInt(countParams(ir, vocab))} parameters, vocab ${formatInt(vocab)}, batch ${opts.batch} × ${T} tokens`);
        console.log(`TypeScript on ${backend.description} against PyTorch ${torch.torch} (${against}), from the same random weights\n`);
        const work = mkdtempSync(join(tmpdir(), "babygpt-parity-"));
        try {
          const result = await checkParity({
            loaded,
            module,
            vocab,
            batch: opts.batch,
            T,
            steps: opts.steps,
            optimizers: opts.steps > 0 ? PARITY_OPTIMIZERS : [],
            tolerances,
            python: torch.python,
            ...(opts.torchModule ? { torchModule: resolve(opts.torchModule) } : {}),
            workDir: work,
          }).catch((e: unknown) => {
            // The PyTorch side failed (a module that does not load, a name that differs): its last line.
            if (e instanceof ReferenceFailed) throw new UserError(`PyTorch could not run the model: ${e.lastLine}`);
            throw e;
          });
          console.log(parityReport(result, { steps: opts.steps, verbose: opts.verbose ?? false }));
          if (result.routing) console.log(`routing: ${result.routing.count} routings of a mixture of experts, every token's experts compared first; the closest choice was ${result.routing.closest.toExponential(1)} from a tie`);
          if (result.skipped.length > 0) console.log(`not compared: ${result.skipped.join("; ")}`);
          const custom = opts.tolerance !== undefined && opts.tolerance.size > 0;
          if (result.problems.length === 0) {
            console.log(`\nok: the two agree within ${custom ? "the tolerances given" : "the parity tests' tolerances"}`);
          } else {
            console.error(`\nFAIL: ${result.problems.length} check${result.problems.length === 1 ? "" : "s"} beyond ${custom ? "the tolerances given" : "the parity tests' tolerances"}:`);
            for (const p of result.problems.slice(0, 20)) console.error(`  ${p}`);
            if (result.problems.length > 20) console.error(`  … and ${result.problems.length - 20} more (--verbose lists every parameter)`);
            process.exitCode = 1;
          }
        } finally {
          rmSync(work, { recursive: true, force: true });
        }
      } finally {
        abort.abort();
      }
    });
}

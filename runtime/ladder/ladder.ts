// `babygpt ladder`: every spec in specs/ trained in order with its own budget, evaluated exactly, sampled,
// and recorded in <dir>/ladder.json. It resumes where it stopped: a finished step is not trained again,
// an interrupted one continues from its checkpoint. `--engine torch` trains the same specs at the same
// budgets and seeds under PyTorch (runtime/torch/), into a ladder directory of its own.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { activationBytes, costs, countParams, decodePlan, loadSpec, lowerSpec } from "../../compiler/index.js";
import { emitTypeScript } from "../../compiler/emit.js";
import { canonicalJson, sha256 } from "../../util/hash.js";
import { listSpecs, projectAt } from "../../compiler/compile.js";
import { writeFileAtomic } from "../../util/write-atomic.js";
import { attentionMaps, type AttentionMap } from "../attention/maps.js";
import type { BackendChoice } from "../backend/select.js";
import { hasCheckpoint } from "../checkpoint/checkpoint.js";
import { dataFor } from "../data/run-data.js";
import { sliceTokens } from "../data/token-source.js";
import { startContext } from "../data/tokenizer.js";
import { UserError } from "../errors.js";
import { PROJECT_ROOT } from "../paths.js";
import { Prng } from "../random.js";
import { openRun } from "../run.js";
import { generate } from "../sample.js";
import { exactLoss } from "../train/evaluate.js";
import { readMetrics } from "../train/metrics.js";
import { trainTorch, type TorchOptions } from "../torch/engine.js";
import { runsDir } from "../train/run-dir.js";
import { train, type Reporter } from "../train/trainer.js";
import { ABLATED, ABLATIONS, type Ablation } from "./ablations.js";

/** Which trainer a ladder runs: the TypeScript one on TensorFlow.js, or the torch engine. */
export type LadderEngine = "tfjs" | "torch";

export interface LadderOptions {
  /** The specs it trains, in order (paths relative to the project root): by default the ladder's, specs/*.yaml. */
  readonly specs?: readonly string[];
  /** Overrides (--set) applied to every spec, as one budget for all (the zoo's `--iters`). */
  readonly sets?: readonly string[];
  /** Spec names (or file names) to run; default all. */
  readonly only?: readonly string[];
  /** Multiplies every spec's max_iters. */
  readonly itersScale?: number;
  /** Per-step iteration caps for budgets that do not fit this machine (name → iterations). */
  readonly caps?: ReadonlyMap<string, number>;
  /** Also train the ablation of the modern step (runtime/ladder/ablations.ts), after the specs. */
  readonly ablate?: boolean;
  /** 20 steps per spec at a small batch: a smoke test of the whole ladder. */
  readonly quick?: boolean;
  readonly backend?: BackendChoice;
  readonly engine?: LadderEngine;
  /** The torch engine's processes and device, with engine: "torch". */
  readonly torch?: TorchOptions;
  /** The command line that ran it, recorded in ladder.json for the report. */
  readonly command?: string;
  readonly data?: string | undefined;
  /** Where runs and ladder.json go (default runs/ladder, or runs/ladder-quick, in the current directory). */
  readonly dir?: string;
  readonly reporter?: (name: string) => Reporter;
  /** Polled between steps (Ctrl-C): the current step checkpoints and the ladder stops. */
  readonly shouldStop?: () => boolean;
  readonly log?: (line: string) => void;
}

export interface StepResult {
  readonly name: string;
  /** For a step of the modern step's ablation: what it undoes. */
  readonly ablation?: { readonly of: string; readonly change: string; readonly control?: true };
  readonly spec: string;
  readonly description: string;
  readonly params: number;
  readonly flopsPerToken: number;
  readonly activationBytes: number;
  readonly batchSize: number;
  readonly blockSize: number;
  readonly tokenizer: string;
  readonly vocab: number;
  /** Iterations trained, and what the spec asks for. */
  readonly iters: number;
  readonly specIters: number;
  readonly evalIters: number;
  readonly backend: string;
  readonly msPerIter: number;
  readonly tokensPerSec: number;
  readonly wallSeconds: number;
  /** The last loss estimates (eval_iters random batches), and the exact val loss. */
  readonly trainLoss: number;
  readonly valEstimate: number;
  readonly valLoss: number;
  readonly curve: readonly { readonly step: number; readonly train: number; readonly val: number }[];
  readonly losses: readonly number[];
  readonly sample: string;
  /** Every head's attention map for ATTENTION_PROMPT, for the steps with attention. */
  readonly attention?: { readonly tokens: readonly string[]; readonly maps: readonly AttentionMap[] };
  readonly runDir: string;
  readonly key: string;
}

export interface LadderState {
  readonly steps: Record<string, StepResult>;
  /** The engine and the command that produced the steps (the last command that ran). */
  readonly run?: { readonly engine: LadderEngine; readonly command: string };
}

export const QUICK_ITERS = 20;
/** A smoke test's "exact" loss reads this many val tokens, not the whole split (a full pass over it costs more than the 20 steps). */
export const QUICK_VAL_TOKENS = 4096;

/**
 * A smoke test's batch: at most 4 rows and about 256 tokens a step, so the lecture GPT (T = 256) steps on one
 * row. Its cost is the model's size, not the batch: 20 steps still move the loss.
 */
function quickBatch(batchSize: number, blockSize: number): number {
  return Math.max(1, Math.min(batchSize, 4, Math.floor(256 / blockSize)));
}

/** The prompt every step's attention maps read: short enough for the ladder's 8-token contexts. */
export const ATTENTION_PROMPT = "ROMEO:";

export function ladderDir(quick: boolean, engine: LadderEngine = "tfjs"): string {
  return join(runsDir(), `ladder${engine === "torch" ? "-torch" : ""}${quick ? "-quick" : ""}`);
}

/** The step a finished or interrupted run's checkpoint is at, read without touching the run. */
function checkpointStep(runDir: string): number | undefined {
  try {
    const step = (JSON.parse(readFileSync(join(runDir, "meta.json"), "utf8")) as { step?: unknown }).step;
    return typeof step === "number" ? step : undefined;
  } catch {
    return undefined;
  }
}

export function readLadderState(dir: string): LadderState {
  const file = join(dir, "ladder.json");
  if (!existsSync(file)) return { steps: {} };
  return JSON.parse(readFileSync(file, "utf8")) as LadderState;
}

export async function runLadder(options: LadderOptions): Promise<LadderState> {
  const quick = options.quick ?? false;
  const engine = options.engine ?? "tfjs";
  const dir = options.dir ?? ladderDir(quick, engine);
  mkdirSync(dir, { recursive: true });
  const log = options.log ?? (() => {});
  const all = options.specs ?? listSpecs(projectAt(PROJECT_ROOT));
  const wanted = options.only && options.only.length > 0 ? options.only : undefined;
  const where = options.specs ? [...new Set(all.map((s) => `${dirname(s)}/`))].join(", ") : "specs/";
  const specs = wanted
    ? wanted.map((w) => {
        const hit = all.find((s) => basename(s, ".yaml") === w || basename(s) === w || loadSpec(s, { cwd: PROJECT_ROOT }).spec.name === w);
        if (!hit) throw new UserError(`--only ${w}: no spec in ${where} has that name or file name (there are ${all.map((s) => basename(s, ".yaml")).join(", ")})`);
        return hit;
      })
    : all;
  const before = readLadderState(dir);
  const run = options.command ? { engine, command: options.command } : before.run;
  const state: { steps: Record<string, StepResult>; run?: LadderState["run"] } = { steps: { ...before.steps }, ...(run ? { run } : {}) };

  const entries: { specPath: string; extra: readonly string[]; ablation?: Ablation }[] = [
    ...specs.map((specPath) => ({ specPath, extra: options.sets ?? [] })),
    ...(options.ablate ? ABLATIONS.map((a) => ({ specPath: a.spec, extra: a.sets, ablation: a })) : []),
  ];
  for (const { specPath, extra, ablation } of entries) {
    const base = loadSpec(specPath, { cwd: PROJECT_ROOT, sets: extra });
    const name = ablation ? `${ABLATED}-${ablation.name}` : base.spec.name;
    const t = base.spec.training;
    const cap = options.caps?.get(name);
    const iters = quick ? QUICK_ITERS : Math.max(1, Math.min(cap ?? Infinity, Math.round(t.max_iters * (options.itersScale ?? 1))));
    const reduced = !quick && iters < t.max_iters;
    // A capped step is one that does not fit this machine: its estimates cost as much as its training (each
    // of the lecture GPT's batches is a forward pass of 64 × 256 tokens), so it estimates less often, on
    // fewer batches. The reported loss is the exact one at the end either way.
    const capped = reduced && cap !== undefined;
    const evalIters = quick ? 2 : capped ? Math.min(t.eval_iters, 10) : t.eval_iters;
    const evalInterval = quick ? QUICK_ITERS : Math.min(t.eval_interval, Math.max(1, Math.ceil(iters / (capped ? 4 : 10))));
    const sets = [...extra, `training.eval_iters=${evalIters}`, `training.eval_interval=${evalInterval}`, ...(quick ? [`training.batch_size=${quickBatch(t.batch_size, base.spec.model.block_size)}`] : [])];
    const loaded = loadSpec(specPath, { cwd: PROJECT_ROOT, sets: [...sets, `training.max_iters=${iters}`] });
    // The key covers the emitted code too: a compiler change that alters the model retrains the step.
    const code = sha256(emitTypeScript(lowerSpec(loaded)));
    const key = sha256(canonicalJson({ spec: loaded.spec, iters, ...(engine === "torch" ? { engine, torch: options.torch ?? {} } : { backend: options.backend ?? "auto" }), code }));
    if (state.steps[name]?.key === key) {
      log(`${name}: done earlier (val ${state.steps[name]!.valLoss.toFixed(4)}), skipped`);
      continue;
    }
    const runDir = join(dir, name);
    const keyFile = join(dir, `${name}.key`);
    // A run that reached its budget but whose results were not recorded (a crash in between) trains again:
    // resuming it would have no step left to train.
    const resumable = existsSync(keyFile) && readFileSync(keyFile, "utf8") === key && hasCheckpoint(runDir) && (checkpointStep(runDir) ?? 0) < iters;
    if (!resumable) {
      rmSync(runDir, { recursive: true, force: true });
      writeFileSync(keyFile, key);
    }
    log(`${name}: ${resumable ? "resuming" : "training"} ${iters} iterations${reduced ? ` (of ${t.max_iters}: reduced to fit this machine)` : ""}`);
    const started = performance.now();
    const reporter = options.reporter?.(name);
    const job = {
      spec: join(PROJECT_ROOT, specPath),
      sets,
      iters,
      data: options.data,
      ...(resumable ? { resume: runDir } : { out: runDir }),
      ...(reporter ? { reporter } : {}),
      ...(options.shouldStop ? { shouldStop: options.shouldStop } : {}),
    };
    const result = engine === "torch" ? await trainTorch({ ...job, ...options.torch }) : await train({ ...job, backend: options.backend ?? "auto" });
    const wallSeconds = (performance.now() - started) / 1000;
    if (result.status === "interrupted") {
      log(`${name}: interrupted at step ${result.step}; run the ladder again to continue`);
      break;
    }

    const run = await openRun(runDir, options.backend ?? "auto");
    // the run's splits from the token cache (its training prepared them)
    const ds = (await dataFor({ run: { dir: runDir, corpus: run.meta.corpus, tokenizer: run.meta.tokenizer }, options: { data: options.data }, spec: run.spec, checkWindows: false })).dataset;
    // The torch engine measures the exact loss itself, after its last step (the same windows, every token
    // once); a quick run reads both engines' loss here, on the same few val tokens.
    const val = quick ? sliceTokens(ds.val, 0, QUICK_VAL_TOKENS + 1) : ds.val;
    const exact = !quick && "exact" in result && result.exact ? result.exact : await exactLoss(run.model, val, 32);
    const sampleIds = await generate(run.model, startContext(run.tokenizer), { tokens: quick ? 20 : 200, temperature: 1, rng: new Prng(1337), plan: decodePlan(run.ir, run.meta.vocabSize) });
    const promptIds = Array.from(run.tokenizer.encode(ATTENTION_PROMPT)).slice(-run.model.blockSize);
    const maps = await attentionMaps(run.model, promptIds);
    const ir = lowerSpec(loaded);
    const vocab = run.tokenizer.vocabSize;
    const history = readMetrics(runDir);
    const evals = history.filter((r) => r.type === "eval");
    const last = evals.at(-1);
    const step: StepResult = {
      name,
      spec: specPath,
      description: ablation ? `The modern step with ${ablation.change}.` : (base.spec.description ?? "").trim(),
      ...(ablation ? { ablation: { of: ABLATED, change: ablation.change, ...(ablation.control ? { control: true as const } : {}) } } : {}),
      params: countParams(ir, vocab),
      flopsPerToken: costs(ir, { vocab, T: ir.blockSize }).flopsPerToken,
      activationBytes: activationBytes(ir, vocab, loaded.spec.training.batch_size),
      batchSize: loaded.spec.training.batch_size,
      blockSize: ir.blockSize,
      tokenizer: run.tokenizer.kind,
      vocab,
      iters: result.step,
      specIters: t.max_iters,
      evalIters,
      backend: result.backend.name,
      msPerIter: result.msPerIter,
      tokensPerSec: result.tokensPerSec,
      wallSeconds: (resumable ? (state.steps[name]?.wallSeconds ?? 0) : 0) + wallSeconds,
      trainLoss: last?.train_loss ?? NaN,
      valEstimate: last?.val_loss ?? NaN,
      valLoss: exact.loss,
      curve: evals.map((r) => ({ step: r.step, train: r.train_loss!, val: r.val_loss! })),
      losses: result.losses,
      sample: run.tokenizer.decode(sampleIds),
      ...(maps.length > 0 ? { attention: { tokens: promptIds.map((id) => run.tokenizer.decode([id])), maps } } : {}),
      runDir: relative(process.cwd(), runDir),
      key,
    };
    run.model.dispose();
    state.steps[name] = step;
    writeFileAtomic(join(dir, "ladder.json"), `${JSON.stringify(state, null, 2)}\n`);
    log(`${name}: val ${exact.loss.toFixed(4)} (exact), ${Math.round(result.tokensPerSec)} tokens/s, ${wallSeconds.toFixed(0)} s`);
  }
  return state;
}

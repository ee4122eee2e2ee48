// `babygpt zoo`: every architecture of specs/zoo/ trained at one budget (the same steps of the same batch,
// from the one recipe they extend), evaluated exactly and sampled by the ladder's own machinery
// (runtime/ladder/ladder.ts, one spec at a time into <dir>/ladder.json, so it resumes where it stopped),
// with the machine's load recorded around each training: the zoo's results (results.ts).
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { basename, join } from "node:path";
import { listZoo, projectAt } from "../../compiler/compile.js";
import { loadSpec } from "../../compiler/index.js";
import { writeFileAtomic } from "../../util/write-atomic.js";
import type { BackendChoice } from "../backend/choices.js";
import { UserError } from "../errors.js";
import { readLadderState, runLadder, type StepResult } from "../ladder/ladder.js";
import { PROJECT_ROOT } from "../paths.js";
import { runsDir } from "../train/run-dir.js";
import type { Reporter } from "../train/trainer.js";
import { distinctiveLines } from "./distinctive.js";
import { ZOO_FORMAT, type ZooEntry, type ZooResults } from "./results.js";

export interface ZooOptions {
  /** Spec names or file names of the zoo to train; default all. */
  readonly only?: readonly string[];
  /** Steps for every architecture (default: the recipe's max_iters). */
  readonly iters?: number;
  readonly backend?: BackendChoice;
  readonly data?: string | undefined;
  /** Where runs, ladder.json and loads.json go (default runs/zoo). */
  readonly dir?: string;
  /** The command line, recorded in the results. */
  readonly command: string;
  /**
   * An earlier results file (docs/zoo.json): an architecture this run has no result for keeps its entry
   * there when that entry trained the same spec files at the same budget, so a new architecture is
   * trained alone (`--only`) and joins the others' results.
   */
  readonly previous?: ZooResults;
  readonly reporter?: (name: string) => Reporter;
  readonly shouldStop?: () => boolean;
  readonly log?: (line: string) => void;
}

export const zooDir = (): string => join(runsDir(), "zoo");

/** GPT-2's spec is every other architecture's baseline for its distinctive lines; GPT-2's is the ladder's baby GPT. */
const GPT2 = "specs/zoo/gpt2.yaml";
const BABY_GPT = "specs/12-baby-gpt.yaml";

type Budget = ZooResults["budget"];

/** The budget a spec trains at (with the zoo's overrides), as the results record it. */
function budgetOf(spec: string, sets: readonly string[]): Budget {
  const { training, model } = loadSpec(spec, { cwd: PROJECT_ROOT, sets }).spec;
  const o = training.optimizer;
  const s = training.schedule;
  return {
    iters: training.max_iters,
    batchSize: training.batch_size,
    blockSize: model.block_size,
    optimizer: `${o.type} lr ${o.lr}, betas ${o.betas.join("/")}, weight decay ${o.weight_decay}, clipping at ${training.grad_clip}`,
    schedule: s.type === "cosine" ? `${s.warmup_iters} warmup steps, cosine to ${s.min_lr}` : "constant",
  };
}

/** Every zoo spec must train at the one budget, or the comparison is not one. */
function oneBudget(specs: readonly string[], sets: readonly string[]): Budget {
  const budgets = specs.map((s) => ({ spec: s, budget: budgetOf(s, sets) }));
  const first = budgets[0]!;
  for (const b of budgets) {
    if (JSON.stringify(b.budget) !== JSON.stringify(first.budget)) {
      throw new UserError(`${b.spec} trains at another budget than ${first.spec} (${JSON.stringify(b.budget)} against ${JSON.stringify(first.budget)}): the zoo compares architectures at one budget, so keep the training settings in specs/zoo/recipe/training.yaml`);
    }
  }
  return first.budget;
}

/** When and under what load an architecture trained (loads.json in the zoo's folder, by ladder step key). */
interface Measured {
  readonly start: number;
  readonly end: number;
  readonly date?: string;
}

/** The sha256 of a spec's files, the spec's own first: what an entry of an earlier results file must match. */
export function specSha256(spec: string): string {
  return createHash("sha256")
    .update(loadSpec(spec, { cwd: PROJECT_ROOT }).files.map((f) => f.sha256).join(" "))
    .digest("hex");
}

function entryOf(step: StepResult, spec: string, measured: Measured | undefined, today: string, machine: string, command: string): ZooEntry {
  const baseline = spec === GPT2 ? BABY_GPT : GPT2;
  return {
    command,
    name: step.name,
    spec,
    description: step.description,
    distinctive: distinctiveLines(join(PROJECT_ROOT, spec), join(PROJECT_ROOT, baseline)),
    baseline,
    params: step.params,
    flopsPerToken: step.flopsPerToken,
    iters: step.iters,
    tokensPerSec: step.tokensPerSec,
    msPerIter: step.msPerIter,
    wallSeconds: step.wallSeconds,
    trainLoss: step.trainLoss,
    valLoss: step.valLoss,
    curve: step.curve,
    sample: step.sample,
    load: { start: measured?.start ?? Number.NaN, end: measured?.end ?? Number.NaN },
    date: measured?.date ?? today,
    machine,
    specSha256: specSha256(spec),
  };
}

const rounded = (n: number): number => Math.round(n * 100) / 100;

/** The one budget of the zoo's specs, with `iters` steps instead of the recipe's when given. */
export function zooBudget(iters?: number): Budget {
  return oneBudget(listZoo(projectAt(PROJECT_ROOT)), iters !== undefined ? [`training.max_iters=${iters}`] : []);
}

/**
 * Trains the chosen architectures (resuming, and skipping those done at this budget), then gathers the
 * results of every zoo spec that has one at this budget. `complete` says whether all have.
 */
export async function runZoo(options: ZooOptions): Promise<{ readonly results: ZooResults; readonly complete: boolean }> {
  const project = projectAt(PROJECT_ROOT);
  const specs = listZoo(project);
  if (specs.length === 0) throw new UserError("specs/zoo/ has no specs");
  const names = new Map(specs.map((s) => [s, loadSpec(s, { cwd: PROJECT_ROOT }).spec.name]));
  const chosen = options.only && options.only.length > 0
    ? options.only.map((w) => {
        const hit = specs.find((s) => basename(s, ".yaml") === w || basename(s) === w || names.get(s) === w);
        if (!hit) throw new UserError(`--only ${w}: no spec in specs/zoo/ has that name or file name (there are ${specs.map((s) => basename(s, ".yaml")).join(", ")})`);
        return hit;
      })
    : specs;
  const sets = options.iters !== undefined ? [`training.max_iters=${options.iters}`] : [];
  const budget = oneBudget(specs, sets);
  const dir = options.dir ?? zooDir();
  const loadsFile = join(dir, "loads.json");
  const loads: Record<string, Measured> = existsSync(loadsFile) ? (JSON.parse(readFileSync(loadsFile, "utf8")) as Record<string, Measured>) : {};
  const today = new Date().toISOString().slice(0, 10);

  for (const spec of chosen) {
    if (options.shouldStop?.()) break;
    const start = loadavg()[0]!;
    const state = await runLadder({
      specs,
      only: [basename(spec)],
      sets,
      dir,
      command: options.command,
      data: options.data,
      ...(options.backend ? { backend: options.backend } : {}),
      ...(options.reporter ? { reporter: options.reporter } : {}),
      ...(options.shouldStop ? { shouldStop: options.shouldStop } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    const step = state.steps[names.get(spec)!];
    if (step && loads[step.key] === undefined) {
      loads[step.key] = { start: rounded(start), end: rounded(loadavg()[0]!), date: today };
      writeFileAtomic(loadsFile, `${JSON.stringify(loads, null, 2)}\n`);
    }
  }

  const state = readLadderState(dir);
  const cpu = cpus();
  const machine = `${cpu[0]?.model ?? "unknown CPU"}, ${cpu.length} cores`;
  const sameBudget = options.previous !== undefined && JSON.stringify(options.previous.budget) === JSON.stringify(budget);
  const backends = new Set<string>();
  const entries = specs.flatMap((spec) => {
    const step = state.steps[names.get(spec)!];
    if (step && step.iters === budget.iters && step.batchSize === budget.batchSize) {
      backends.add(step.backend);
      const entry = entryOf(step, spec, loads[step.key], today, machine, options.command);
      // A training an earlier command ran (the same result, found in the runs folder) keeps that command.
      const earlier = options.previous?.entries.find((e) => e.spec === spec && e.valLoss === entry.valLoss && e.iters === entry.iters);
      return [earlier ? { ...entry, command: earlier.command ?? options.previous!.command } : entry];
    }
    const kept = sameBudget ? options.previous!.entries.find((e) => e.spec === spec && e.specSha256 === specSha256(spec)) : undefined;
    if (kept) backends.add(options.previous!.backend);
    // an entry of a results file from before entries recorded their command has the file's
    return kept ? [{ ...kept, command: kept.command ?? options.previous!.command }] : [];
  });
  const results: ZooResults = {
    format: ZOO_FORMAT,
    command: options.command,
    date: today,
    machine,
    cores: cpu.length,
    backend: [...backends].join(", "),
    budget,
    entries,
  };
  return { results, complete: entries.length === specs.length };
}

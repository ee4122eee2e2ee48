// The GPU kit's driver (`./run.sh` runs it with the kit's Node): what this machine's GPU does with
// babygpt, in one results file. In order, each part in a process of its own with its own time limit, so
// that one that fails or hangs costs only its own time and says why in one line:
//
//   the GPUs (nvidia-smi); the WebGPU adapter (vendor, architecture, limits, features, software or not);
//   per model (the baby GPT, the lecture GPT) the median webgpu training step after its warm-up; the same
//   models trained by the torch engine on CUDA (bf16 autocast, scaled_dot_product_attention); each WGSL
//   kernel against tfjs-webgpu's composite of the same op; then, if the budget has room for it, the torch
//   engine's whole lecture-GPT training (5,000 iterations, the exact validation loss).
//
// The results file is written after every part (a stopped run keeps what it measured) and printed at the
// end; progress goes to stderr.
//
//   ./run.sh [--budget SECONDS] [--out DIR] [--parts webgpu,kernels,torch,full]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadSpec } from "../../compiler/index.js";
import { writeFileAtomic } from "../../util/write-atomic.js";
import { loadCorpus, type Corpus } from "../../runtime/data/corpus.js";
import { PROJECT_ROOT } from "../../runtime/paths.js";
import { Prng } from "../../runtime/random.js";
import type { AdapterInfo, FullRun, KernelFigures, KitResults, ModelFigures, PartOutcome, StepFigures, TorchFigures } from "../results.js";
import { KIT_RESULTS_KIND } from "../results.js";
import { nvidiaGpus } from "./gpu.js";
import { hostInfo, kitInfo } from "./host.js";
import type { PartRecord } from "./lines.js";
import { GRACE, runPart, type PartRun } from "./part.js";
import { probeTorchForKit, type TorchProbe } from "./torch-probe.js";

const GROUPS = ["webgpu", "kernels", "torch", "full"] as const;
type Group = (typeof GROUPS)[number];

const USAGE = "usage: ./run.sh [--budget SECONDS] [--out DIR] [--parts webgpu,kernels,torch,full] [--torch-device cuda|cpu]";
const bad = (message: string): never => {
  console.error(`run.sh: ${message} (${USAGE})`);
  process.exit(2);
};

let parsed: ReturnType<typeof parseOptions>;
function parseOptions() {
  return parseArgs({
    options: {
      budget: { type: "string", default: "480" },
      out: { type: "string", default: "gpu-kit-results" },
      parts: { type: "string", default: GROUPS.join(",") },
      "torch-device": { type: "string", default: "cuda" },
      help: { type: "boolean", short: "h", default: false },
    },
  }).values;
}
try {
  parsed = parseOptions();
} catch (e) {
  bad((e as Error).message.split("\n")[0]!);
}
const opts = parsed!;
if (opts.help) {
  console.log(`${USAGE}\n\n--budget  seconds for everything (default 480: 8 minutes); each part has its own limit within it\n--out     the folder the results file goes to (default ./gpu-kit-results)\n--parts   which measurements: webgpu (adapter and training steps), kernels (WGSL vs tfjs-webgpu), torch (the torch engine's steps on CUDA), full (the lecture GPT's whole training)\n--torch-device cpu  the torch parts on the CPU instead: the same path where there is no GPU (slowly)`);
  process.exit(0);
}
const budget = Number(opts.budget);
if (!Number.isInteger(budget) || budget < 10) bad(`--budget ${opts.budget}: give whole seconds, at least 10`);
const groups = new Set(opts.parts.split(",").map((p) => p.trim()));
for (const g of groups) if (!(GROUPS as readonly string[]).includes(g)) bad(`--parts: unknown part "${g}"; choose from ${GROUPS.join(", ")}`);
const wants = (g: Group): boolean => groups.has(g);
const torchDevice = opts["torch-device"];
if (torchDevice !== "cuda" && torchDevice !== "cpu") bad(`--torch-device ${torchDevice}: choose cuda or cpu`);

const outDir = resolve(opts.out);
try {
  mkdirSync(outDir, { recursive: true });
} catch (e) {
  bad(`--out ${opts.out}: cannot create it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
}

const began = performance.now();
const deadline = began + budget * 1000;
/** Seconds a part may still be given: what is left of the budget, less the grace a hung part is killed after. */
const left = (): number => (deadline - performance.now()) / 1000 - GRACE;
const elapsed = (): string => `${Math.round((performance.now() - began) / 1000)}`.padStart(4);
const say = (line: string): void => console.error(`[${elapsed()} s] ${line}`);
const date = new Date();
const stamp = date.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
const file = join(outDir, `gpu-kit-${date.toISOString().slice(0, 10)}-${stamp.slice(9)}.json`);

/** The models measured: the baby GPT first (it runs even on a slow adapter), then the lecture GPT. */
const MODELS = [
  { key: "baby-gpt", name: "baby GPT", spec: "specs/12-baby-gpt.yaml", webgpu: { cap: 90, maxSteps: 20 }, torch: { cap: 75, iters: 200 } },
  { key: "gpt", name: "lecture GPT", spec: "specs/11-gpt.yaml", webgpu: { cap: 120, maxSteps: 10 }, torch: { cap: 90, iters: 100 } },
] as const;
const LIMITS = { adapter: 30, kernels: 75 };
/** The least time a part is started with: below it, it is skipped and says so. */
const LEAST = 10;
/** The full run: the lecture GPT's spec and the least time worth starting it with. */
const FULL = { spec: "specs/11-gpt.yaml", least: 60 };

const skipped = (note: string): PartOutcome => ({ status: "skipped", note });
const noTime = (): PartOutcome => skipped(`the budget (--budget ${budget}) had ${Math.max(0, Math.floor(left() + GRACE))} s left`);
/** The time limit for a part capped at `cap`, or undefined when the budget has too little left. */
const limitFor = (cap: number, least = LEAST): number | undefined => {
  const t = Math.min(cap, Math.floor(left()));
  return t >= least ? t : undefined;
};
/** A part's outcome from its run: ok, or failed/timeout with the reason. */
const outcome = (run: PartRun, limit: number): PartOutcome => ({
  status: run.exit,
  ...(run.why ? { note: run.why } : {}),
  seconds: Math.round(run.seconds * 10) / 10,
  limitSeconds: limit,
});
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

type Figures = { -readonly [K in keyof ModelFigures]: ModelFigures[K] };
const models = MODELS.map((m): Figures => {
  const spec = loadSpec(join(PROJECT_ROOT, m.spec), { cwd: PROJECT_ROOT }).spec;
  return { name: m.name, spec: m.spec, batch: spec.training.batch_size, block: spec.model.block_size, webgpu: skipped("not asked for (--parts)"), torch: skipped("not asked for (--parts)") };
});
const results: { -readonly [K in keyof KitResults]: KitResults[K] } = {
  kind: KIT_RESULTS_KIND,
  version: 1,
  command: ["./run.sh", ...process.argv.slice(2)].join(" "),
  date: date.toISOString(),
  budgetSeconds: budget,
  seconds: 0,
  kit: kitInfo(),
  host: hostInfo(),
  corpus: { path: null, sha256: null },
  gpu: { status: "skipped", gpus: [] },
  adapter: skipped("not asked for (--parts)"),
  torch: skipped("not asked for (--parts)"),
  models,
  kernels: { ...skipped("not asked for (--parts)"), rows: [], flags: [] },
  full: { ...skipped("not asked for (--parts)"), spec: FULL.spec },
};
const save = (): void => {
  results.seconds = Math.round((performance.now() - began) / 100) / 10;
  writeFileAtomic(file, `${JSON.stringify(results, null, 2)}\n`);
};

say(`babygpt GPU kit ${results.kit.babygpt} (${results.kit.commit}), budget ${budget} s; results: ${file}`);
if (results.host.missing) say(`host: ${results.host.missing}`);

// ---- the GPUs, PyTorch (probed while the adapter part runs), the corpus ----
results.gpu = nvidiaGpus();
say(results.gpu.status === "ok" ? `GPU: ${results.gpu.gpus.map((g) => `${g.name} (driver ${g.driver}, ${g.memoryMiB} MiB)`).join(", ")}` : `GPU: none (${results.gpu.note})`);
const torchProbe: Promise<TorchProbe> | undefined = wants("torch") || wants("full") ? probeTorchForKit(torchDevice === "cpu" ? "cpu" : "cuda") : undefined;
let corpus: Corpus | undefined;
try {
  corpus = await loadCorpus({ download: false });
  results.corpus = { path: corpus.path, sha256: corpus.sha256 };
} catch (e) {
  results.corpus = { path: null, sha256: null, note: `${(e as Error).message.split("\n")[0]}; the torch engine's step times train on random text instead, and the full run is skipped` };
}
save();

// ---- WebGPU: the adapter, then each model's training step ----
if (wants("webgpu") || wants("kernels")) {
  const limit = limitFor(LIMITS.adapter, 5);
  if (limit === undefined) results.adapter = noTime();
  else {
    say("WebGPU adapter …");
    const run = await runPart("adapter", [], limit);
    const a = run.records.find((r) => r.type === "adapter");
    const { type: _type, ...info } = a ?? { type: "" };
    results.adapter = a ? ({ ...outcome(run, limit), status: "ok", ...info } as AdapterInfo) : outcome(run, limit);
    const ad = results.adapter;
    say(ad.status === "ok" ? `adapter: ${ad.description || ad.device} (${ad.vendor}, ${ad.architecture})${ad.software ? ` — software: ${ad.software}` : ""}` : `adapter: none (${ad.note})`);
  }
  save();
}
const adapterOk = results.adapter.status === "ok";
const noAdapter = (): PartOutcome => skipped(`no WebGPU adapter (${results.adapter.note ?? results.adapter.status})`);
// A software adapter (lavapipe) is WebGPU on the CPU: its steps say nothing of a GPU, and the lecture
// GPT's takes minutes there. The baby GPT still runs, briefly, to show that the kit's WebGPU path works.
const software = typeof results.adapter.software === "string";

if (wants("webgpu")) {
  for (const [i, m] of MODELS.entries()) {
    const fig = models[i]!;
    const limit = adapterOk ? limitFor(m.webgpu.cap) : undefined;
    if (!adapterOk) fig.webgpu = noAdapter();
    else if (software && i > 0) fig.webgpu = skipped("a software adapter (WebGPU on the CPU): only the baby GPT runs there, to show the path works");
    else if (limit === undefined) fig.webgpu = noTime();
    else {
      say(`${m.name} on webgpu (at most ${limit} s) …`);
      const maxSteps = software ? 5 : m.webgpu.maxSteps;
      const run = await runPart("webgpu-steps", ["--spec", m.spec, "--seconds", String(Math.max(5, limit - 5)), "--max-steps", String(maxSteps)], limit, (r) => {
        if (r.type === "step") say(`  step ${String(r["i"])}${r["warmup"] ? " (warm-up)" : ""}: ${(r["ms"] as number).toFixed(1)} ms`);
      });
      fig.webgpu = stepFigures(run, limit, fig);
      say(fig.webgpu.msPerStep !== undefined ? `${m.name} on webgpu: ${fig.webgpu.msPerStep.toFixed(1)} ms/step (median of ${fig.webgpu.timedSteps}), ${Math.round(fig.webgpu.tokensPerSec!)} tokens/s` : `${m.name} on webgpu: no figure (${fig.webgpu.note})`);
    }
    save();
  }
}

/** The median step after the warm-up from a webgpu-steps run. */
function stepFigures(run: PartRun, limit: number, fig: { params?: number }): StepFigures {
  const start = run.records.find((r) => r.type === "start");
  if (start) fig.params = start["params"] as number;
  const steps = run.records.filter((r) => r.type === "step");
  const timed = steps.filter((r) => !r["warmup"]).map((r) => r["ms"] as number);
  const base = outcome(run, limit);
  const first = steps[0]?.["ms"] as number | undefined;
  if (timed.length === 0) {
    const why = run.exit === "ok" ? "no timed step" : run.exit === "timeout" && first !== undefined ? `no timed step within ${limit} s (the first step, which compiles the shaders, took ${(first / 1000).toFixed(1)} s)` : base.note;
    return { ...base, status: run.exit === "ok" ? "failed" : base.status, note: why ?? "no step finished" };
  }
  const ms = median(timed);
  const tokens = (start?.["tokensPerStep"] as number | undefined) ?? 0;
  return {
    ...base,
    status: "ok",
    ...(run.exit === "timeout" ? { note: `stopped at its limit after ${timed.length} timed steps` } : {}),
    msPerStep: ms,
    tokensPerSec: tokens / (ms / 1000),
    timedSteps: timed.length,
    warmupSteps: steps.length - timed.length,
    ...(first !== undefined ? { firstStepMs: first } : {}),
  };
}

// ---- the torch engine on CUDA ----
let torch: TorchProbe | undefined;
if (torchProbe) {
  torch = await torchProbe;
  results.torch = torch.outcome;
  say(torch.usable ? `PyTorch: torch ${torch.outcome.version} (${torch.outcome.python}), ${torchDevice === "cpu" ? "on the CPU (--torch-device cpu)" : `CUDA: ${torch.outcome.devices?.join(", ")}`}` : `PyTorch on ${torchDevice}: ${torch.outcome.note}`);
  save();
}
/** Random text of tinyshakespeare's size and alphabet, for step times where the kit has no corpus. */
const work = mkdtempSync(join(tmpdir(), "babygpt-kit-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
const timingData = (): string => {
  if (corpus) return corpus.path;
  const path = join(work, "random-text.txt");
  const alphabet = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const rng = new Prng(7);
  writeFileSync(path, Array.from({ length: 1_115_394 }, () => alphabet[rng.nextInt(alphabet.length)]).join(""));
  return path;
};

if (wants("torch")) {
  for (const [i, m] of MODELS.entries()) {
    const fig = models[i]!;
    const limit = torch?.usable ? limitFor(m.torch.cap, 20) : undefined;
    if (!torch?.usable) fig.torch = skipped(torch?.outcome.note ?? "PyTorch was not probed");
    else if (limit === undefined) fig.torch = noTime();
    else {
      say(`${m.name} by the torch engine on ${torchDevice} (at most ${limit} s) …`);
      const args = ["--spec", m.spec, "--timing", "--iters", String(m.torch.iters), "--seconds", String(Math.max(10, limit - 10)), "--out", join(work, `${m.key}-timing`), "--data", timingData(), "--device", torchDevice];
      const run = await runPart("torch-run", args, limit);
      fig.torch = torchFigures(run, limit, fig.batch * fig.block, torch);
      say(fig.torch.msPerStep !== undefined ? `${m.name} by the torch engine: ${fig.torch.msPerStep.toFixed(1)} ms/step, ${Math.round(fig.torch.tokensPerSec!)} tokens/s (${fig.torch.precision})` : `${m.name} by the torch engine: no figure (${fig.torch.note})`);
      rmSync(join(work, `${m.key}-timing`), { recursive: true, force: true });
    }
    if (fig.webgpu.tokensPerSec !== undefined && fig.torch.tokensPerSec !== undefined) fig.webgpuOverTorch = fig.webgpu.tokensPerSec / fig.torch.tokensPerSec;
    save();
  }
}

function torchFigures(run: PartRun, limit: number, tokensPerStep: number, probe: TorchProbe): TorchFigures {
  const done = run.records.find((r) => r.type === "done");
  const base = outcome(run, limit);
  const ms = done?.["medianMs"] as number | null | undefined;
  if (!done || ms === null || ms === undefined) {
    const last = run.records.filter((r) => r.type === "progress").at(-1);
    const where = last ? ` at step ${String(last["step"])} of ${String(last["max"])}` : " before its first step";
    return { ...base, status: run.exit === "ok" ? "failed" : base.status, note: `${base.note ?? "no logged step to time"}${done ? "" : where}` };
  }
  const versions = (done["versions"] ?? {}) as Record<string, string>;
  return {
    ...base,
    status: "ok",
    msPerStep: ms,
    tokensPerSec: tokensPerStep / (ms / 1000),
    timedSteps: done["loggedSteps"] as number,
    ...(typeof done["meanMs"] === "number" ? { meanMs: done["meanMs"] } : {}),
    device: ((done["devices"] as string[] | undefined) ?? [])[0] ?? "cuda",
    torch: versions["torch"] ?? probe.outcome.version ?? "?",
    ...(versions["cuda"] ? { cuda: versions["cuda"] } : {}),
    precision: (done["precision"] as string | null) ?? "?",
    sdpa: probe.sdpa,
  };
}

// ---- the WGSL kernels against tfjs-webgpu's composites ----
if (wants("kernels")) {
  const limit = adapterOk ? limitFor(LIMITS.kernels, 15) : undefined;
  if (!adapterOk) results.kernels = { ...noAdapter(), rows: [], flags: [] };
  else if (limit === undefined) results.kernels = { ...noTime(), rows: [], flags: [] };
  else {
    say(`WGSL kernels against tfjs-webgpu's composites (at most ${limit} s) …`);
    const run = await runPart("webgpu-kernels", ["--jsonl", "--reps", "10"], limit, (r) => {
      if (r.type === "kernel") say(`  ${String(r["op"])}: ${(r["kernelMs"] as number).toFixed(2)} ms vs ${(r["compositeMs"] as number).toFixed(2)} ms`);
    });
    const rows = run.records.filter((r) => r.type === "kernel").map(({ type: _t, ...row }) => row) as unknown as KernelFigures["rows"];
    const flags = run.records.filter((r) => r.type === "flags").map(({ type: _t, ...row }) => row) as unknown as KernelFigures["flags"];
    const base = outcome(run, limit);
    results.kernels = { ...base, ...(rows.length && run.exit === "timeout" ? { note: `stopped at its limit after ${rows.length} kernels` } : {}), status: rows.length ? (run.exit === "failed" ? "failed" : "ok") : base.status, rows, flags };
  }
  save();
}

// ---- the full lecture-GPT run ----
if (wants("full")) results.full = await fullRun();
save();

async function fullRun(): Promise<FullRun> {
  const lecture = models.find((m) => m.spec === FULL.spec);
  const base = { spec: FULL.spec };
  if (!torch?.usable) return { ...base, ...skipped(torch?.outcome.note ?? "PyTorch was not probed") };
  if (!corpus) return { ...base, ...skipped("the kit has no corpus (build it with BABYGPT_DATA_DIR holding tinyshakespeare.txt, or set BABYGPT_DATA_DIR here)") };
  const iterations = loadSpec(join(PROJECT_ROOT, FULL.spec), { cwd: PROJECT_ROOT }).spec.training.max_iters;
  // The training steps, its evaluations (eval_iters batches of both splits every eval_interval: about
  // 1,500 steps' worth of forward passes at the lecture's settings) and the start of torchrun and CUDA.
  const ms = lecture?.torch.msPerStep;
  const estimate = ms !== undefined ? (ms * (iterations + 1500)) / 1000 + 30 : undefined;
  const have = Math.floor(left());
  if (have < FULL.least || (estimate !== undefined && estimate > have)) {
    const need = estimate !== undefined ? `it needs about ${Math.ceil(estimate / 60)} min at ${ms!.toFixed(1)} ms/step` : `it needs at least ${FULL.least} s`;
    return { ...base, ...skipped(`${need} and the budget had ${have} s left; run it alone with ./run.sh --parts full --budget ${Math.ceil(((estimate ?? 600) * 1.2) / 60) * 60}`) };
  }
  const runDir = join(outDir, "runs", `gpt-${stamp}`);
  say(`the lecture GPT's full training by the torch engine on ${torchDevice} (${iterations} iterations, at most ${have} s${estimate !== undefined ? `, about ${Math.ceil(estimate / 60)} min expected` : ""}) …`);
  const run = await runPart("torch-run", ["--spec", FULL.spec, "--seconds", String(have - 20), "--out", runDir, "--device", torchDevice], have, (r: PartRecord) => {
    if (r.type === "progress" && (r["step"] as number) % 500 < 20) say(`  step ${String(r["step"])}/${String(r["max"])}: loss ${(r["loss"] as number).toFixed(4)}, ${Math.round(r["tokensPerSec"] as number)} tokens/s`);
  });
  const done = run.records.find((r) => r.type === "done");
  const o = outcome(run, have);
  if (!done) {
    const last = run.records.filter((r) => r.type === "progress").at(-1);
    const at = last ? { iterations: last["step"] as number, of: last["max"] as number } : {};
    return { ...base, ...o, ...at, status: run.exit === "ok" ? "failed" : o.status, note: `${o.note ?? "no result"}${last ? ` at step ${String(last["step"])}` : " before its first step"}; its run directory: ${runDir}`, runDir };
  }
  const step = done["step"] as number;
  const finished = done["status"] === "done" && step === iterations;
  const loss = done["exactValLoss"] as number | null;
  const full: FullRun = {
    ...base,
    ...o,
    status: finished ? "ok" : "timeout",
    ...(finished ? {} : { note: `stopped at step ${step} of ${iterations} at the end of its time; the checkpoint is in ${runDir}` }),
    iterations: step,
    of: iterations,
    ...(loss !== null ? { exactValLoss: loss, valTokens: done["valTokens"] as number } : {}),
    minutes: (done["seconds"] as number) / 60,
    ...(typeof done["meanMs"] === "number" ? { msPerStep: done["meanMs"] } : {}),
    evals: done["evals"] as FullRun["evals"],
    device: ((done["devices"] as string[] | undefined) ?? [])[0] ?? "cuda",
    precision: (done["precision"] as string | null) ?? "?",
    runDir,
  };
  say(finished ? `lecture GPT: exact val loss ${loss?.toFixed(4)} after ${iterations} iterations in ${full.minutes!.toFixed(1)} min` : `lecture GPT: ${full.note}`);
  return full;
}

// ---- the summary, and the results ----
for (const m of models) {
  const w = m.webgpu.msPerStep !== undefined ? `webgpu ${m.webgpu.msPerStep.toFixed(1)} ms/step` : `webgpu – (${m.webgpu.note ?? m.webgpu.status})`;
  const t = m.torch.msPerStep !== undefined ? `torch engine ${m.torch.msPerStep.toFixed(1)} ms/step` : `torch engine – (${m.torch.note ?? m.torch.status})`;
  say(`${m.name}: ${w}; ${t}${m.webgpuOverTorch !== undefined ? `; webgpu at ${m.webgpuOverTorch.toFixed(2)}× the torch engine's speed` : ""}`);
}
save();
say(`wrote ${file}`);
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);

// Profiles one training step (forward + backward, no optimizer) of a generated model on each backend
// asked for, and prints a table per backend: kernel, calls, total ms, share of the kernel time. Then it
// times a few unprofiled steps, so the table can be set against the real step time (the difference is
// the engine's per-op bookkeeping, which no kernel timer sees), and a few whole training steps as the
// trainer and the benchmark run them (runtime/train/step.ts: forward, backward, clipping at norm 1,
// AdamW), so the optimizer's share shows too.
//
//   node --import tsx bench/profile-step.ts [--backends native,wasm,cpu] [--model baby-gpt]
//                                           [--module path/to/model.ts] [--batch 12] [--iters 10] [--seconds 2] [--top 40]
//                                           [--spec path/to/spec.yaml [--set key=value ...]]
//                                           [--vs-reference OP[,OP...] [--pairs 12]]
//
// Timing runs at least --iters steps and, for fast backends, goes on until --seconds have passed (at most
// 500 steps), so that a 30 ms step is timed over dozens of steps and a 5 s one over a few.
//
// --module loads a model file instead of a generated one (any module exporting createModel and config,
// such as a hand-edited copy of a generated model). --spec takes the model a spec describes, with --set's
// overrides as `train` applies them (say a test spec at a realistic width: --set model.n_embd=128).
//
// --vs-reference times whole training steps with the named ops' kernels against the same steps with
// those kernels unregistered, so that the ops' references run there (as on a backend without them, or
// as before a kernel implemented an attr the spec sets): rounds of a few steps each way, in turn, and
// the ratio of each round's pair, so that a machine whose load drifts still gives a fair ratio.
//
// Kernels that run inside another kernel (a tf.customGrad op such as fusedMatMul runs its kernels inside
// its own scope) are timed twice by tf.profile: once themselves and once in the scope that ran them. The
// table lists such scopes apart, marked "(scope)", and leaves them out of the share column's total.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { loadSpec } from "../compiler/index.js";
import { selectBackend, type BackendName } from "../runtime/backend/select.js";
import { resolveModel } from "../runtime/model-source.js";
import { tf } from "../runtime/nn/tf.js";
import { definedOps } from "../runtime/ops/index.js";
import { Optimizer } from "../runtime/train/optimizer.js";
import { trainStep } from "../runtime/train/step.js";
import { models, type ModelName } from "../generated/index.js";

const { values: opts } = parseArgs({
  options: {
    backends: { type: "string", default: "native,wasm,cpu" },
    model: { type: "string", default: "baby-gpt" },
    module: { type: "string" },
    batch: { type: "string", default: "12" },
    iters: { type: "string", default: "10" },
    seconds: { type: "string", default: "2" },
    top: { type: "string", default: "40" },
    spec: { type: "string" },
    set: { type: "string", multiple: true, default: [] },
    "vs-reference": { type: "string" },
    pairs: { type: "string", default: "12" },
  },
});

type ModelEntry = (typeof models)[ModelName];
const modelName = opts.spec ? `${opts.spec}${opts.set.length ? ` (--set ${opts.set.join(" ")})` : ""}` : (opts.module ?? opts.model);
const found: ModelEntry | undefined = opts.spec
  ? ((await resolveModel(resolve(opts.spec), loadSpec(opts.spec, { sets: opts.set }), { compile: false, sets: opts.set })).module as unknown as ModelEntry)
  : opts.module
    ? ((await import(pathToFileURL(resolve(opts.module)).href)) as ModelEntry)
    : models[opts.model as ModelName];
if (!found) throw new Error(`unknown model ${opts.model}; one of ${Object.keys(models).join(", ")}`);
const entry: ModelEntry = found;
const batch = Number(opts.batch);
const iters = Number(opts.iters);
const seconds = Number(opts.seconds);
/** Whether a timing loop that started at `since` and ran `done` steps should go on. */
const keepTiming = (done: number, since: number): boolean => done < iters || (done < 500 && performance.now() - since < seconds * 1000);
const top = Number(opts.top);
const vocabSize = 65;
const pairs = Number(opts.pairs);
/** The ops whose kernels --vs-reference times against their references. */
const versus = (opts["vs-reference"] ?? "").split(",").filter(Boolean);
const opNames = new Set(definedOps().map((op) => op.name));
for (const name of versus) if (!opNames.has(name)) throw new Error(`--vs-reference: no op ${name}; one of ${[...opNames].join(", ")}`);

/** Runs f with these ops' kernels (forward and gradient) unregistered from the backend, so that their references run. */
async function withReferences<T>(ops: readonly string[], backend: string, f: () => Promise<T>): Promise<T> {
  const kernels = ops.flatMap((name) => [tf.getKernel(name, backend), tf.getKernel(`${name}Grad`, backend)]).filter((k) => k !== undefined);
  for (const k of kernels) tf.unregisterKernel(k.kernelName, backend);
  try {
    return await f();
  } finally {
    for (const k of kernels) tf.registerKernel(k);
  }
}

/**
 * CPU time (in clock ticks) that other processes used, so far: busy time of the whole machine minus this
 * process's. A step during which it grew was shared with someone else's work; on a small machine such
 * steps are slower for reasons of no concern here. Undefined where /proc is missing.
 */
function othersCpuTicks(): number | undefined {
  try {
    const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const busy = cpu.reduce((a, b) => a + b, 0) - cpu[3]! - cpu[4]!; // all but idle and iowait
    const self = readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ");
    return busy - Number(self[11]) - Number(self[12]); // utime, stime (all threads)
  } catch {
    return undefined;
  }
}

interface Row {
  name: string;
  calls: number;
  ms: number;
  scope: boolean;
}

/** One forward + backward; returns the loss and disposes everything it made. */
function step(model: ReturnType<typeof entry.createModel>, vars: tf.Variable[], x: tf.Tensor2D, y: tf.Tensor2D): number {
  const { value, grads } = tf.variableGrads(() => model.forward(x, y).loss!, vars);
  const loss = value.dataSync()[0]!;
  tf.dispose([value, ...Object.values(grads)]);
  return loss;
}

async function profileBackend(name: BackendName): Promise<void> {
  let info;
  try {
    info = await selectBackend(name);
  } catch (e) {
    console.log(`\n## ${name}: not available (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`);
    return;
  }
  const model = entry.createModel({ vocabSize });
  const vars = model.namedParameters().map(([, v]) => v);
  const T = entry.config.blockSize;
  const x = tf.randomUniformInt([batch, T], 0, vocabSize, "int32") as tf.Tensor2D;
  const y = tf.randomUniformInt([batch, T], 0, vocabSize, "int32") as tf.Tensor2D;

  // Warm up: first calls compile JS, allocate caches (the causal mask, the native backend's array pool)
  // and initialize the backend.
  for (let i = 0; i < 3; i++) step(model, vars, x, y);

  const t0 = performance.now();
  const prof = await tf.profile(() => {
    step(model, vars, x, y);
  });
  const profiledMs = performance.now() - t0;

  const rows = new Map<string, Row>();
  for (const k of prof.kernels) {
    // A name with no kernel registered for this backend is a customGrad scope (its kernels are
    // listed on their own as well).
    const scope = tf.getKernel(k.name, info.tfjsName) === undefined;
    const row = rows.get(k.name) ?? { name: k.name, calls: 0, ms: 0, scope };
    row.calls++;
    row.ms += k.kernelTimeMs as number;
    rows.set(k.name, row);
  }
  const sorted = [...rows.values()].sort((a, b) => b.ms - a.ms);
  const kernelMs = sorted.filter((r) => !r.scope).reduce((s, r) => s + r.ms, 0);
  const kernelCalls = sorted.filter((r) => !r.scope).reduce((s, r) => s + r.calls, 0);

  step(model, vars, x, y); // settle after profiling, which keeps extra tensors alive
  const times: number[] = [];
  const quiet: number[] = [];
  let loss = 0;
  for (const since = performance.now(); keepTiming(times.length, since); ) {
    const before = othersCpuTicks();
    const s = performance.now();
    loss = step(model, vars, x, y);
    const ms = performance.now() - s;
    times.push(ms);
    const after = othersCpuTicks();
    // At most one tick (10 ms) of other processes' CPU time during the step: the tick counters are coarse.
    if (before !== undefined && after !== undefined && after - before <= 1) quiet.push(ms);
  }
  const medianOf = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  times.sort((a, b) => a - b);
  const median = medianOf(times);
  const mean = times.reduce((s, t) => s + t, 0) / times.length;
  const quietNote = quiet.length > 0 ? `; median of the ${quiet.length} steps the machine was otherwise idle ${medianOf(quiet).toFixed(1)} ms` : "";

  // Whole training steps: what the trainer and bench/child.ts time.
  const params = model.namedParameters();
  const optimizer = new Optimizer({ type: "adamw", lr: 1e-3, betas: [0.9, 0.99], eps: 1e-8, weight_decay: 0.1 });
  await trainStep(model, params, x, y, optimizer, 1e-3, 1); // moments allocated, first-step paths taken
  const full: number[] = [];
  const fullQuiet: number[] = [];
  for (const since = performance.now(); keepTiming(full.length, since); ) {
    const before = othersCpuTicks();
    const s = performance.now();
    await trainStep(model, params, x, y, optimizer, 1e-3, 1);
    const ms = performance.now() - s;
    full.push(ms);
    const after = othersCpuTicks();
    if (before !== undefined && after !== undefined && after - before <= 1) fullQuiet.push(ms);
  }
  let versusNote = "";
  if (versus.length > 0) {
    // Rounds of a few whole steps with the kernels, then as many with the references, in turn.
    const perRound = 3;
    const timeSteps = async (): Promise<number> => {
      const s = performance.now();
      for (let i = 0; i < perRound; i++) await trainStep(model, params, x, y, optimizer, 1e-3, 1);
      return (performance.now() - s) / perRound;
    };
    await withReferences(versus, info.tfjsName, timeSteps); // the references' first calls (their caches, JIT)
    const kernelMs: number[] = [];
    const referenceMs: number[] = [];
    for (let r = 0; r < pairs; r++) {
      kernelMs.push(await timeSteps());
      referenceMs.push(await withReferences(versus, info.tfjsName, timeSteps));
    }
    const ratios = referenceMs.map((ms, i) => ms / kernelMs[i]!).sort((a, b) => a - b);
    versusNote =
      `whole step with ${versus.join(", ")} as kernels: median ${medianOf(kernelMs).toFixed(1)} ms, min ${Math.min(...kernelMs).toFixed(1)} ms; ` +
      `as references: median ${medianOf(referenceMs).toFixed(1)} ms, min ${Math.min(...referenceMs).toFixed(1)} ms; ` +
      `paired ratio reference / kernel: median ${medianOf(ratios).toFixed(2)} (range ${ratios[0]!.toFixed(2)} to ${ratios.at(-1)!.toFixed(2)} over ${pairs} rounds of ${perRound} steps each way)`;
  }
  optimizer.dispose();
  const fullNote = `whole step (forward, backward, clip, AdamW): median ${medianOf(full).toFixed(1)} ms, min ${Math.min(...full).toFixed(1)} ms` + (fullQuiet.length > 0 ? `; quiet-step median ${medianOf(fullQuiet).toFixed(1)} ms (${fullQuiet.length} of ${full.length} steps)` : "");

  console.log(`\n## ${info.name} (tfjs backend "${info.tfjsName}")${info.skipped.length ? `; skipped: ${info.skipped.join("; ")}` : ""}`);
  console.log(`model ${modelName}, batch ${batch}, block ${T}; loss ${loss.toFixed(4)}`);
  console.log(
    `fwd+bwd: median ${median.toFixed(1)} ms, mean ${mean.toFixed(1)} ms, min ${times[0]!.toFixed(1)} ms over ${times.length} steps` +
      `${quietNote} | profiled step ${profiledMs.toFixed(1)} ms, ${kernelCalls} kernel calls, kernel time ${kernelMs.toFixed(1)} ms`,
  );
  console.log(fullNote);
  if (versusNote) console.log(versusNote);
  console.log("");
  console.log(`${"kernel".padEnd(32)} ${"calls".padStart(6)} ${"total ms".padStart(10)} ${"share".padStart(7)}`);
  for (const r of sorted.slice(0, top)) {
    const share = r.scope ? "" : `${((100 * r.ms) / kernelMs).toFixed(1)}%`;
    console.log(`${(r.scope ? `${r.name} (scope)` : r.name).padEnd(32)} ${String(r.calls).padStart(6)} ${r.ms.toFixed(2).padStart(10)} ${share.padStart(7)}`);
  }
  if (sorted.length > top) {
    const rest = sorted.slice(top).filter((r) => !r.scope);
    const ms = rest.reduce((s, r) => s + r.ms, 0);
    const calls = rest.reduce((s, r) => s + r.calls, 0);
    console.log(`${`(${rest.length} more)`.padEnd(32)} ${String(calls).padStart(6)} ${ms.toFixed(2).padStart(10)} ${`${((100 * ms) / kernelMs).toFixed(1)}%`.padStart(7)}`);
  }
  tf.dispose([x, y]);
  model.dispose();
}

for (const name of opts.backends.split(",")) await profileBackend(name.trim() as BackendName);

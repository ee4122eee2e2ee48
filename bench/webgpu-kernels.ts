// The webgpu backend's WGSL kernels against tfjs-webgpu's composite of the same op (the op's reference in
// tf ops, forced with withReferenceOps), at the baby GPT's shapes; then a whole baby GPT training step
// under tfjs-webgpu's flags (flags.ts), to choose them by measurement. Every figure is the median of
// timed repetitions, each ending in `await data()` of its result, so the GPU's work is inside it.
// Writes bench/results/webgpu-kernels-<date>.json and prints a table.
//
//   node --import tsx bench/webgpu-kernels.ts [--reps 10] [--out bench/results]
//   node --import tsx bench/webgpu-kernels.ts --jsonl      (the GPU kit: each row as a JSON line when measured; no file)
//
// On a software adapter (lavapipe) the figures say what each kernel saves in dispatches and memory
// traffic on the CPU, not what it saves on a GPU; the adapter is recorded with them.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeFileAtomic } from "../util/write-atomic.js";
import { models } from "../generated/index.js";
import { releaseBackends, selectBackend } from "../runtime/backend/select.js";
import { tf } from "../runtime/nn/tf.js";
import { crossEntropy, globalNorm, layerNorm, multiHeadCausalAttention, withReferenceOps, type HeadWeights } from "../runtime/ops/index.js";
import { PROJECT_ROOT } from "../runtime/paths.js";
import { Prng } from "../runtime/random.js";
import { Optimizer } from "../runtime/train/optimizer.js";
import { trainStep } from "../runtime/train/step.js";
import { adapterLine } from "../runtime/webgpu/adapter.js";
import { FLAGS } from "../runtime/webgpu/flags.js";

const { values: opts } = parseArgs({
  options: { reps: { type: "string", default: "10" }, out: { type: "string", default: join(PROJECT_ROOT, "bench/results") }, jsonl: { type: "boolean", default: false } },
});
const REPS = Number(opts.reps);
/** Under --jsonl, a row as soon as it is measured: a caller that stops this early keeps the rows so far. */
const line = (record: Record<string, unknown>): void => {
  if (opts.jsonl) process.stdout.write(`${JSON.stringify(record)}\n`);
};

const backend = await selectBackend("webgpu");
const rng = new Prng(1);
const randn = (shape: number[], scale = 1): tf.Tensor => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.nextNormal() * scale), shape);

/** Median ms of f (which returns what to wait for), after two untimed runs (shader compilation). */
async function time(f: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  const once = async (): Promise<number> => {
    const s = performance.now();
    const out = tf.tidy(f);
    const list = Array.isArray(out) ? out : [out];
    await Promise.all(list.map((t) => t.data()));
    const ms = performance.now() - s;
    tf.dispose(list);
    return ms;
  };
  await once();
  await once();
  const ms: number[] = [];
  for (let i = 0; i < REPS; i++) ms.push(await once());
  ms.sort((a, b) => a - b);
  return ms[ms.length >> 1]!;
}

/** tfjs kernels one call runs, as tf.profile sees them (a WGSL kernel counts once, whatever it dispatches inside). */
async function kernels(f: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  const p = await tf.profile(() => {
    const out = f();
    return out;
  });
  tf.dispose(p.result as tf.Tensor | tf.Tensor[]);
  return p.kernels.length;
}

// The baby GPT (specs/12-baby-gpt.yaml): B 12, T 64, C 128, 4 heads of 32, vocab 65.
const [B, T, C, H, D, V] = [12, 64, 128, 4, 32, 65];
const x = randn([B, T, C]);
const gamma = randn([C]);
const beta = randn([C]);
const heads: HeadWeights[] = Array.from({ length: H }, () => ({ query: { weight: randn([D, C], 0.1) }, key: { weight: randn([D, C], 0.1) }, value: { weight: randn([D, C], 0.1) } }));
const headTensors = heads.flatMap((h) => [h.query.weight, h.key.weight, h.value.weight]);
const logits = randn([B, T, V], 2) as tf.Tensor3D;
const targets = tf.tensor2d(Int32Array.from({ length: B * T }, () => rng.nextInt(V)), [B, T], "int32");

const withGrad = (f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[]) => (): tf.Tensor[] => {
  const g = tf.grads((...a: tf.Tensor[]) => tf.sum(f(...a)));
  return g(xs);
};
const attention = (xx: tf.Tensor, ...w: tf.Tensor[]): tf.Tensor =>
  multiHeadCausalAttention(xx as tf.Tensor3D, Array.from({ length: H }, (_, h) => ({ query: { weight: w[3 * h]! }, key: { weight: w[3 * h + 1]! }, value: { weight: w[3 * h + 2]! } })), D ** -0.5, 0, []);

const cases: { name: string; f: () => tf.Tensor | tf.Tensor[] }[] = [
  { name: `layer norm forward (${B}×${T}×${C})`, f: () => layerNorm(x, gamma, beta, 1e-5) },
  { name: "layer norm forward + backward", f: withGrad((a, g, b) => layerNorm(a, g, b, 1e-5), [x, gamma, beta]) },
  { name: `attention forward (B ${B}, T ${T}, ${H} heads of ${D})`, f: () => attention(x, ...headTensors) },
  { name: "attention forward + backward", f: withGrad(attention, [x, ...headTensors]) },
  { name: `softmax + cross-entropy forward (${B * T} rows × ${V})`, f: () => crossEntropy(logits, targets) },
  { name: "softmax + cross-entropy forward + backward", f: withGrad((l) => crossEntropy(l as tf.Tensor3D, targets), [logits]) },
];

// The optimizer's update and the gradient norm over the baby GPT's own parameters.
const model = models["baby-gpt"].createModel({ vocabSize: V, seed: 1 });
const params = model.namedParameters();
const grads = params.map(([, v]) => randn(v.shape, 1e-3));
cases.push({ name: `gradient norm (${params.length} tensors, ${model.parameterCount().toLocaleString("en-US")} floats)`, f: () => globalNorm(grads) });
const optimizer = new Optimizer({ type: "adamw", lr: 1e-4, betas: [0.9, 0.99], eps: 1e-8, weight_decay: 0.1 });
const update = (): tf.Tensor => {
  optimizer.applyGradients(params, grads, 1e-4, 1);
  return tf.add(params[0]![1], 0); // a read that waits for the update
};

/** The values f gives (flattened), to check that the composite computes what the kernel does. */
async function values(f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const vs = await Promise.all(list.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose(list);
  return vs;
}
const agree = (a: Float32Array[], b: Float32Array[]): boolean =>
  a.length === b.length && a.every((x, i) => x.every((v, j) => Math.abs(v - b[i]![j]!) <= 1e-3 * Math.max(1, Math.abs(v))));
/** WebGPU validation errors (runtime/webgpu/backend.ts prints each as "webgpu: …") while f runs. */
async function validationErrors(f: () => Promise<unknown>): Promise<number> {
  const original = console.error;
  let count = 0;
  console.error = (...args: unknown[]) => {
    if (typeof args[0] === "string" && args[0].startsWith("webgpu:")) count++;
    else original(...args);
  };
  try {
    await f();
    await tf.ready();
  } finally {
    console.error = original;
  }
  return count;
}

const rows: { op: string; kernelMs: number; compositeMs: number; kernelDispatches: number; compositeDispatches: number; compositeAgrees: boolean }[] = [];
for (const c of cases) {
  const kernelMs = await time(c.f);
  const compositeMs = await time(() => withReferenceOps(c.f));
  // A composite that WebGPU refuses (too many buffers for one shader: tfjs-webgpu's AddN binds every
  // input) raises a validation error and leaves its output buffer as it was, not an exception.
  let composite: Float32Array[] = [];
  const errors = await validationErrors(async () => void (composite = await values(() => withReferenceOps(c.f))));
  const compositeAgrees = errors === 0 && agree(await values(c.f), composite);
  rows.push({ op: c.name, kernelMs, compositeMs, kernelDispatches: await kernels(c.f), compositeDispatches: await kernels(() => withReferenceOps(c.f)), compositeAgrees });
  line({ type: "kernel", ...rows.at(-1)! });
  console.error(`${c.name}: ${kernelMs.toFixed(2)} ms vs ${compositeMs.toFixed(2)} ms${compositeAgrees ? "" : ` (the composite is invalid: ${errors} validation errors, or other values)`}`);
}
{
  // The update changes the weights, so its composite is checked on a copy of the same start.
  const c = { name: `AdamW update (${params.length} tensors)`, f: update };
  const kernelMs = await time(c.f);
  const compositeMs = await time(() => withReferenceOps(c.f));
  rows.push({ op: c.name, kernelMs, compositeMs, kernelDispatches: await kernels(c.f), compositeDispatches: await kernels(() => withReferenceOps(c.f)), compositeAgrees: true });
  line({ type: "kernel", ...rows.at(-1)! });
  console.error(`${c.name}: ${kernelMs.toFixed(2)} ms vs ${compositeMs.toFixed(2)} ms`);
}

// A whole training step of the baby GPT under each flag setting.
const xb = tf.tensor2d(Int32Array.from({ length: B * T }, () => rng.nextInt(V)), [B, T], "int32");
const stepMs = async (): Promise<number> => {
  await trainStep(model, params, xb, xb, optimizer, 1e-4, 1);
  const ms: number[] = [];
  for (let i = 0; i < Math.max(2, REPS >> 2); i++) {
    const s = performance.now();
    await trainStep(model, params, xb, xb, optimizer, 1e-4, 1);
    ms.push(performance.now() - s);
  }
  ms.sort((a, b) => a - b);
  return ms[ms.length >> 1]!;
};
const flagRows: { batchSize: number; cpuForward: boolean; stepMs: number }[] = [];
const SETTINGS: readonly [number, boolean][] = [
  [1, true],
  [15, true],
  [15, false],
  [64, true],
  [256, true],
];
for (const [batchSize, cpuForward] of SETTINGS) {
  tf.env().set("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE", batchSize);
  tf.env().set("WEBGPU_CPU_FORWARD", cpuForward);
  const ms = await stepMs();
  flagRows.push({ batchSize, cpuForward, stepMs: ms });
  line({ type: "flags", ...flagRows.at(-1)! });
  console.error(`baby GPT step, WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=${batchSize} WEBGPU_CPU_FORWARD=${cpuForward}: ${ms.toFixed(1)} ms`);
}

if (opts.jsonl) {
  line({ type: "done" });
  await releaseBackends();
  process.exit(0);
}
const date = new Date().toISOString();
const result = {
  command: `node --import tsx bench/webgpu-kernels.ts --reps ${REPS}`,
  date,
  adapter: backend.adapter ? adapterLine(backend.adapter) : "unknown",
  software: backend.adapter?.software !== undefined,
  flagsInUse: FLAGS,
  kernels: rows,
  flags: flagRows,
};
mkdirSync(opts.out, { recursive: true });
const file = join(opts.out, `webgpu-kernels-${date.slice(0, 10)}.json`);
writeFileAtomic(file, `${JSON.stringify(result, null, 2)}\n`);

console.log(`adapter: ${result.adapter}${result.software ? " (software: WebGPU on the CPU)" : ""}\n`);
console.log("| op | WGSL kernel ms | tfjs-webgpu composite ms | composite / kernel | tfjs kernels (WGSL / composite) |");
console.log("| --- | --: | --: | --: | --: |");
for (const r of rows) {
  const composite = r.compositeAgrees ? r.compositeMs.toFixed(2) : `${r.compositeMs.toFixed(2)} (invalid: WebGPU refused its shader or its values differ)`;
  console.log(`| ${r.op} | ${r.kernelMs.toFixed(2)} | ${composite} | ${(r.compositeMs / r.kernelMs).toFixed(2)}× | ${r.kernelDispatches} / ${r.compositeDispatches} |`);
}
console.log("\n| WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE | WEBGPU_CPU_FORWARD | baby GPT step ms |");
console.log("| --: | --- | --: |");
for (const r of flagRows) console.log(`| ${r.batchSize} | ${r.cpuForward} | ${r.stepMs.toFixed(1)} |`);
console.log(`\nwrote ${file}`);
await releaseBackends();

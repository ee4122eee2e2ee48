// One benchmark measurement in a process of its own (the backend is process-wide, and peak RSS must be
// this measurement's alone): a spec's generated model trained on random tokens with AdamW, then sampling
// (bench/sampling.ts's protocol: bench/sample-runs.ts; with --profile, where a sampled token's time goes),
// then the backend's matrix-product speed (a 768x768x768 float32 tf.matMul, the yardstick of MFU).
// Prints one JSON line per event on stdout; the parent (bench/bench.ts) enforces the time budget.
//
//   node --import tsx bench/child.ts --spec specs/12-baby-gpt.yaml --backend native --iters 20 --warmup 3
//   BABYGPT_NATIVE_ADDON=build/babygpt_native_builtin.node node --import tsx bench/child.ts ...  (the built-in GEMM)
import { parseArgs } from "node:util";
import { join } from "node:path";
import { decodePlan, loadSpec } from "../compiler/index.js";
import { releaseBackends, selectBackend, type BackendChoice } from "../runtime/backend/select.js";
import { resolveModel } from "../runtime/model-source.js";
import { tf } from "../runtime/nn/tf.js";
import { PROJECT_ROOT } from "../runtime/paths.js";
import { Prng } from "../runtime/random.js";
import { Optimizer } from "../runtime/train/optimizer.js";
import { trainStep } from "../runtime/train/step.js";
import { adapterLine } from "../runtime/webgpu/adapter.js";
import { profileSampling, timeSampling } from "./sample-runs.js";
import { SAMPLING, type SamplingProtocol } from "./sampling.js";

const { values: opts } = parseArgs({
  options: {
    spec: { type: "string" },
    backend: { type: "string", default: "auto" },
    iters: { type: "string", default: "20" },
    warmup: { type: "string", default: "3" },
    // The sampling protocol (bench/sampling.ts; bench.ts passes its values).
    "prompt-tokens": { type: "string", default: String(SAMPLING.promptTokens) },
    "sample-tokens": { type: "string", default: String(SAMPLING.newTokens) },
    "sample-warmup": { type: "string", default: String(SAMPLING.warmupTokens) },
    "sample-repeats": { type: "string", default: String(SAMPLING.repeats) },
    temperature: { type: "string", default: String(SAMPLING.temperature) },
    // Where a sampled token's time goes (bench/sample-runs.ts's profileSampling), after the timed runs.
    profile: { type: "boolean", default: false },
    // The training steps alone (bench/paired-step.ts): no matrix-product yardstick at the end.
    "no-sgemm": { type: "boolean", default: false },
    vocab: { type: "string", default: "65" },
  },
});

const emit = (record: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(record)}\n`);
const rssMiB = (): number => process.memoryUsage().rss / 2 ** 20;

// Whatever stops the measurement (a backend that is not installed, wasm's 4 GiB heap running out) is
// reported to the parent as one line, not as a stack trace on stderr.
const fail = (e: unknown): never => {
  emit({ type: "error", reason: (e instanceof Error ? e.message : String(e)).split("\n")[0] });
  process.exit(1);
};
process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);

const specPath = join(PROJECT_ROOT, opts.spec!);
const loaded = loadSpec(specPath, { cwd: PROJECT_ROOT });
const t = loaded.spec.training;
const backend = await selectBackend(opts.backend as BackendChoice).catch(fail);
const { module, ir } = await resolveModel(specPath, loaded, { compile: false, sets: [] });
const vocab = Number(opts.vocab);
const rssBefore = rssMiB();
const model = module.createModel({ vocabSize: vocab, seed: 1 });
const params = model.namedParameters();
// The reference uses AdamW with the spec's hyperparameters for every config; so do we.
const optimizer = new Optimizer({ ...t.optimizer, type: "adamw" });
const rng = new Prng(1);
const B = t.batch_size;
const T = loaded.spec.model.block_size;
// On webgpu, the adapter: a software one (lavapipe) is WebGPU on the CPU, and the report says so beside its figure.
const adapter = backend.adapter ? { adapter: adapterLine(backend.adapter), software: backend.adapter.software !== undefined } : {};
emit({ type: "start", backend: backend.name, description: backend.description, batch: B, block: T, params: model.parameterCount(), rssBeforeModelMiB: rssBefore, ...adapter });

const total = Number(opts.warmup) + Number(opts.iters);
for (let i = 0; i < total; i++) {
  const xs = Int32Array.from({ length: B * T }, () => rng.nextInt(vocab));
  const ys = Int32Array.from({ length: B * T }, () => rng.nextInt(vocab));
  const started = performance.now();
  const x = tf.tensor2d(xs, [B, T], "int32");
  const y = tf.tensor2d(ys, [B, T], "int32");
  // The trainer's own step (runtime/train/step.ts): forward, backward, clipping, AdamW.
  const { loss } = await trainStep(model, params, x, y, optimizer, t.optimizer.lr, t.grad_clip);
  tf.dispose([x, y]);
  const ms = performance.now() - started;
  emit({ type: "iter", i, warmup: i < Number(opts.warmup), ms, loss, rssMiB: rssMiB() });
}

// Sampling by the protocol (bench/sample-runs.ts): the decode plan with the KV cache and without, the
// generated forward, a batch; then where a sampled token's time goes. One "sample" line each, so a run
// killed later still keeps them.
model.eval();
const protocol: SamplingProtocol = { ...SAMPLING, promptTokens: Number(opts["prompt-tokens"]), newTokens: Number(opts["sample-tokens"]), warmupTokens: Number(opts["sample-warmup"]), repeats: Number(opts["sample-repeats"]) };
const plan = decodePlan(ir, vocab);
if (protocol.newTokens > 0) {
  await timeSampling(model, plan, protocol, (run) => emit({ type: "sample", ...run }));
  if (opts.profile) {
    const profile = await profileSampling(model, plan, protocol);
    if (profile) emit({ type: "sampleProfile", profile });
  }
}
const peakRssMiB = process.resourceUsage().maxRSS / 1024; // before the product below adds its own arrays
emit({ type: "done", peakRssMiB, numTensors: tf.memory().numTensors, ...(opts["no-sgemm"] ? {} : { sgemmGflops: await matMulGflops() }) });
await releaseBackends(); // Node waits while Dawn's GPU instance is referenced

/** GFLOP/s of one 768x768x768 float32 product on this backend (its threads included): the median of
 * up to 10 products after one warm-up, stopping after 3 s. The same product PyTorch's figure times. */
async function matMulGflops(): Promise<number> {
  const n = 768;
  const a = tf.randomNormal([n, n], 0, 1, "float32", 1);
  const b = tf.randomNormal([n, n], 0, 1, "float32", 2);
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    await c.data(); // (webgpu reads only asynchronously)
    const ms = performance.now() - t0;
    c.dispose();
    return ms;
  };
  await once();
  const times: number[] = [];
  const began = performance.now();
  while (times.length < 10 && (times.length < 2 || performance.now() - began < 3000)) times.push(await once());
  tf.dispose([a, b]);
  times.sort((x, y) => x - y);
  return (2 * n ** 3) / (times[times.length >> 1]! / 1000) / 1e9;
}

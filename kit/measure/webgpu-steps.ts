// The kit's webgpu part for one model: the trainer's own step (runtime/train/step.ts: forward, backward,
// clipping, the spec's optimizer) on --backend webgpu, on random tokens at the spec's batch and context,
// timed step by step after a warm-up (the first step compiles every shader). It stops by itself after
// --max-steps timed steps or when the next step would end past --seconds, so a slow adapter still
// reports the steps it finished. One "start" line, one "step" line per step, one "done" line.
//
//   node app/webgpu-steps.mjs --spec specs/12-baby-gpt.yaml --seconds 60 [--max-steps 20]
import { join } from "node:path";
import { parseArgs } from "node:util";
import { largestTensor, loadSpec } from "../../compiler/index.js";
import { selectBackend } from "../../runtime/backend/select.js";
import { formatBytes } from "../../util/format.js";
import { resolveModel } from "../../runtime/model-source.js";
import { tf } from "../../runtime/nn/tf.js";
import { PROJECT_ROOT } from "../../runtime/paths.js";
import { Prng } from "../../runtime/random.js";
import { Optimizer } from "../../runtime/train/optimizer.js";
import { trainStep } from "../../runtime/train/step.js";
import { bufferLimit } from "../../runtime/webgpu/limits.js";
import { emit, reportFailures } from "./lines.js";

const { values: opts } = parseArgs({
  options: {
    spec: { type: "string" },
    seconds: { type: "string", default: "60" },
    "max-steps": { type: "string", default: "20" },
    // tinyshakespeare's characters: the vocabulary the models train on.
    vocab: { type: "string", default: "65" },
  },
});

reportFailures();
const began = performance.now();
const seconds = Number(opts.seconds);
const maxSteps = Number(opts["max-steps"]);
const vocab = Number(opts.vocab);
const specPath = join(PROJECT_ROOT, opts.spec!);
const loaded = loadSpec(specPath, { cwd: PROJECT_ROOT });
const t = loaded.spec.training;
const B = t.batch_size;
const T = loaded.spec.model.block_size;
const backend = await selectBackend("webgpu");
const { webgpuLimits } = await import("../../runtime/webgpu/backend.js");
const { module, ir } = await resolveModel(specPath, loaded, { compile: false, sets: [] });
// As the trainer does: a tensor larger than one buffer binding is refused before anything is allocated.
const limit = bufferLimit(await webgpuLimits());
const largest = largestTensor(ir, vocab, B);
if (largest.bytes > limit) throw new Error(`a step needs a GPU buffer of ${formatBytes(largest.bytes)} for ${largest.what}, more than this adapter binds at once (${formatBytes(limit)})`);

const model = module.createModel({ vocabSize: vocab, seed: 1 });
const params = model.namedParameters();
const optimizer = new Optimizer(t.optimizer);
const rng = new Prng(1);
emit({ type: "start", spec: opts.spec!, batch: B, block: T, params: model.parameterCount(), tokensPerStep: B * T, backend: backend.description });

const step = async (): Promise<{ ms: number; loss: number }> => {
  const x = tf.tensor2d(Int32Array.from({ length: B * T }, () => rng.nextInt(vocab)), [B, T], "int32");
  const y = tf.tensor2d(Int32Array.from({ length: B * T }, () => rng.nextInt(vocab)), [B, T], "int32");
  const started = performance.now();
  // The step reads its loss back, which waits for every dispatch it queued: the GPU's work is inside.
  const { loss } = await trainStep(model, params, x, y, optimizer, t.optimizer.lr, t.grad_clip);
  const ms = performance.now() - started;
  tf.dispose([x, y]);
  return { ms, loss };
};

// Warm-up: the first step compiles the shaders; two more where that was quick (a GPU), so that the timed
// steps find every pipeline and buffer pool ready. On a slow adapter one warm-up step has to do.
const first = await step();
emit({ type: "step", i: 0, warmup: true, ...first });
const warmup = first.ms < 2000 ? 3 : 1;
for (let i = 1; i < warmup; i++) emit({ type: "step", i, warmup: true, ...(await step()) });
const left = (): number => seconds * 1000 - (performance.now() - began);
let timed = 0;
let last = 0;
while (timed < maxSteps && (timed === 0 || left() > last * 1.2)) {
  const s = await step();
  last = s.ms;
  emit({ type: "step", i: warmup + timed, warmup: false, ...s });
  timed++;
}
emit({ type: "done", timed, numTensors: tf.memory().numTensors });
process.exit(0);

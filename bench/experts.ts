// The expert dispatch, measured: one training step (runtime/train/step.ts: forward, backward, clipping,
// AdamW) of a mixture of experts on the native backend with the expert mix's kernels, and with them
// unregistered, so that the op runs its reference (every expert on every token, weighted by 0 where the
// token did not choose it), the two alternating in one process and compared step by step; then, with
// --torch, PyTorch's generated module on the same spec and batch (bench/reference/bench_torch.py, babygpt's
// training step, --threads OpenMP threads and 1 OpenBLAS thread, as the native backend's --threads).
//
//   node --import tsx bench/experts.ts [--experts 8] [--top-k 2] [--rounds 12] [--threads 2] [--torch]
//
// On a machine other work keeps busy, --threads 1 for both: a thread pool that waits on a core someone
// else holds (OpenMP spins) makes any comparison meaningless.
//
// The spec is specs/15-modern.yaml (the baby GPT's budget in the modern vocabulary: block 64, width 128,
// batch 12, 4 blocks) with every block's SwiGLU feed-forward a mixture of --experts such experts, --top-k
// per token, and the load-balancing loss at 0.01. Prints one JSON object: the median step times, the
// median of the per-round ratios, and the machine's load meanwhile (timings on a shared machine are only
// comparable within one run).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { KernelConfig } from "@tensorflow/tfjs";
import { emitPython, loadSpec, lowerSpec } from "../compiler/index.js";
import { selectBackend } from "../runtime/backend/select.js";
import { resolveModel } from "../runtime/model-source.js";
import { loadAddon } from "../runtime/native/addon.js";
import { tf } from "../runtime/nn/tf.js";
import { EXPERT_MIX } from "../runtime/ops/index.js";
import { PROJECT_ROOT } from "../runtime/paths.js";
import { Prng } from "../runtime/random.js";
import { Optimizer } from "../runtime/train/optimizer.js";
import { trainStep } from "../runtime/train/step.js";

const { values: opts } = parseArgs({
  options: {
    experts: { type: "string", default: "8" },
    "top-k": { type: "string", default: "2" },
    rounds: { type: "string", default: "12" },
    threads: { type: "string", default: "2" },
    torch: { type: "boolean", default: false },
  },
});

const SPEC = join(PROJECT_ROOT, "specs/15-modern.yaml");
const FFWD = "model.layers.1.body.0.body.1.body.1";
const sets = [`${FFWD}.experts=${opts.experts}`, `${FFWD}.top_k=${opts["top-k"]}`, `${FFWD}.aux_loss=0.01`];
const loaded = loadSpec(SPEC, { cwd: PROJECT_ROOT, sets });
const { spec } = loaded;
const [B, T] = [spec.training.batch_size, spec.model.block_size];
const vocabSize = 65;

await selectBackend("native");
const threads = loadAddon().setThreads(Number(opts.threads));
const { module } = await resolveModel(SPEC, loaded, { compile: false, sets });
const model = module.createModel({ vocabSize, seed: 1 });
const params = model.namedParameters();
const optimizer = new Optimizer(spec.training.optimizer);
const rng = new Prng(3);
const tokens = (): tf.Tensor2D => tf.tensor2d(Int32Array.from({ length: B * T }, () => rng.nextInt(vocabSize)), [B, T], "int32");
const [x, y] = [tokens(), tokens()];

/** The expert mix's two kernels on native, to take away (the reference runs) and give back. */
const kernels = [EXPERT_MIX.name, EXPERT_MIX.gradName!].map((name) => {
  const k = tf.getKernel(name, "native");
  if (!k) throw new Error(`the native backend has no ${name} kernel`);
  return k as KernelConfig;
});
let registered = true;
const useKernels = (on: boolean): void => {
  if (on === registered) return;
  for (const k of kernels) {
    if (on) tf.registerKernel(k);
    else tf.unregisterKernel(k.kernelName, k.backendName);
  }
  registered = on;
};

async function stepMs(): Promise<number> {
  const started = performance.now();
  const r = await trainStep(model, params, x, y, optimizer, spec.training.optimizer.lr, spec.training.grad_clip);
  if (!r.applied) throw new Error(`the loss became ${r.loss}`);
  return performance.now() - started;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const load = loadavg()[0]!;
for (const on of [true, false, true, false]) {
  useKernels(on);
  await stepMs(); // warm-up: first-step paths, the pool's arrays
}
const kernel: number[] = [];
const reference: number[] = [];
for (let r = 0; r < Number(opts.rounds); r++) {
  useKernels(true);
  kernel.push(await stepMs());
  useKernels(false);
  reference.push(await stepMs());
}
useKernels(true);
const ours = {
  kernel_ms: median(kernel),
  reference_ms: median(reference),
  reference_over_kernel: median(reference.map((ms, i) => ms / kernel[i]!)),
};

let torch: Record<string, unknown> | undefined;
if (opts.torch) {
  const dir = mkdtempSync(join(tmpdir(), "babygpt-experts-"));
  try {
    writeFileSync(join(dir, "spec.json"), JSON.stringify(spec));
    writeFileSync(join(dir, "model.py"), emitPython(lowerSpec(loaded)));
    const args = ["bench/reference/bench_torch.py", join(dir, "spec.json"), "--model", join(dir, "model.py"), "--settings", `${threads}x1`, "--styles", "babygpt"];
    const run = spawnSync("/usr/bin/python3", [...args, "--sample-tokens", "0", "--iters", opts.rounds!, "--out", join(dir, "out.json")], { cwd: PROJECT_ROOT, encoding: "utf8" });
    if (run.status !== 0) throw new Error(`bench_torch.py failed:\n${run.stderr}`);
    const report = JSON.parse(readFileSync(join(dir, "out.json"), "utf8")) as { best: { ms_per_iter: number } | null };
    const ms = report.best?.ms_per_iter;
    torch = { ms, kernel_over_torch: ms === undefined ? undefined : ours.kernel_ms / ms };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  JSON.stringify(
    { spec: "specs/15-modern.yaml", sets, batch: B, block: T, rounds: Number(opts.rounds), threads, ...ours, torch, load_before: load, load_after: loadavg()[0] },
    null,
    2,
  ),
);
tf.dispose([x, y]);
optimizer.dispose();
model.dispose();

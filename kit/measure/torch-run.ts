// The kit's torch parts: a model trained by the torch engine (`babygpt train --engine torch`: the
// generated PyTorch module under torchrun, bf16 autocast on CUDA, attention through
// scaled_dot_product_attention) on one GPU. Two uses:
//
//   --timing: a short run (--iters steps, one loss estimate of one batch at its start and end) whose
//     per-step times come from the run's own metrics.jsonl (each logged step timed by PyTorch between
//     its start and its loss), for the step time beside webgpu's;
//   otherwise the spec's whole training (the lecture GPT: 5,000 iterations, its evaluations, then the
//     exact loss over the whole validation split), stopped with a checkpoint at --seconds.
//
// One "progress" line a second while it trains, one "done" line (or "error").
//
//   node app/torch-run.mjs --spec specs/12-baby-gpt.yaml --out DIR --seconds 60 --timing --iters 200 [--data FILE] [--device cpu]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PROJECT_ROOT } from "../../runtime/paths.js";
import { trainTorch } from "../../runtime/torch/engine.js";
import { emit, reportFailures } from "./lines.js";
import { GRACE } from "./part.js";

const { values: opts } = parseArgs({
  options: {
    spec: { type: "string" },
    out: { type: "string" },
    seconds: { type: "string", default: "60" },
    timing: { type: "boolean", default: false },
    iters: { type: "string" },
    data: { type: "string" },
    // cpu: the same path without a GPU, to try the kit where there is none.
    device: { type: "string", default: "cuda" },
  },
});

reportFailures();
const started = performance.now();
const deadline = started + Number(opts.seconds) * 1000;
// The driver's SIGTERM at the part's limit: stop after the current step, with a checkpoint, as at the
// deadline. Where that takes too long (an evaluation in progress), exit before the driver's SIGKILL:
// exiting stops torchrun's process group (runtime/torch/engine.ts), so no rank trains on unattended.
// Ctrl-C in the driver's terminal reaches this process too, and is taken the same way.
let stopAsked = false;
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (stopAsked) return;
    stopAsked = true;
    setTimeout(() => process.exit(143), (GRACE - 5) * 1000).unref();
  });
}
const iters = opts.iters !== undefined ? Number(opts.iters) : undefined;
// A timing run measures steps: one estimate of one batch at each end instead of the spec's evaluations.
const sets = opts.timing && iters !== undefined ? [`training.eval_interval=${iters}`, "training.eval_iters=1"] : [];
let lastProgress = 0;
const result = await trainTorch({
  spec: join(PROJECT_ROOT, opts.spec!),
  sets,
  ...(iters !== undefined ? { iters } : {}),
  data: opts.data,
  out: opts.out!,
  device: opts.device === "cpu" ? "cpu" : "cuda",
  nproc: 1,
  shouldStop: () => stopAsked || performance.now() > deadline,
  reporter: {
    log: (line) => emit({ type: "log", line }),
    step: (step, max, loss, tokensPerSec) => {
      if (performance.now() - lastProgress < 1000 && step < max) return;
      lastProgress = performance.now();
      emit({ type: "progress", step, max, loss, tokensPerSec, seconds: (lastProgress - started) / 1000 });
    },
    done: () => {},
  },
});

interface TrainRecord {
  readonly type: string;
  readonly step: number;
  readonly ms_per_iter?: number;
}
const records = readFileSync(join(result.runDir, "metrics.jsonl"), "utf8")
  .split("\n")
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as TrainRecord);
// Logged steps after the first few (cuBLAS and the allocator warm up there).
const stepMs = records
  .filter((r) => r.type === "train" && r.step > 5 && typeof r.ms_per_iter === "number")
  .map((r) => r.ms_per_iter!)
  .sort((a, b) => a - b);
const meta = JSON.parse(readFileSync(join(result.runDir, "meta.json"), "utf8")) as { devices?: string[]; precision?: string; versions?: Record<string, string> };
emit({
  type: "done",
  status: result.status,
  step: result.step,
  loggedSteps: stepMs.length,
  medianMs: stepMs.length ? stepMs[stepMs.length >> 1] : null,
  meanMs: Number.isFinite(result.msPerIter) ? result.msPerIter : null,
  exactValLoss: result.exact?.loss ?? null,
  valTokens: result.exact?.tokens ?? null,
  evals: result.evals,
  devices: meta.devices ?? [],
  precision: meta.precision ?? null,
  versions: meta.versions ?? {},
  runDir: result.runDir,
  seconds: (performance.now() - started) / 1000,
});
process.exit(0);

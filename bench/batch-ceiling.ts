// A batch of samples against one sample, beside what this machine's arithmetic allows: the figure
// for the baby GPT (a batch of 8 at 4× one sample's tokens/s) measured in paired rounds, with PyTorch's own
// generate batched the same way, and the ceiling a batch could reach here if every floating-point
// operation of its products (bench/plan-flops.ts; norms, activations and the draw not counted) ran at the
// machine's product speed and nothing else took any time. That speed is the cores times the best
// single-threaded sgemm of this build (OpenBLAS's, on square products of 1024 and 1536, the largest
// and fastest it does), which no product on these cores outruns. Past the context
// every token is a whole window's forward for each sample (learned absolute positions move with the
// window, so nothing cached stays valid), arithmetic a batch cannot share; the ceiling shows how far that
// lets a batch go. Each round: our side (bench/child.ts: the protocol's generations; then the product's
// speed, in this process) and PyTorch's (bench_torch.py --sample-only, one row and a batch of rows, its fastest
// setting each), the order flipped every round. Writes bench/results/batch-ceiling-<date>.json, which
// docs/bench.md's paired section shows (bench/paired-report.ts).
//
//   node --import tsx bench/batch-ceiling.ts [--spec specs/12-baby-gpt.yaml] [--rounds 5]
//                                            [--settings 1x1,1x2,omp2] [--backend native]
import { mkdirSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { decodePlan, loadSpec, lowerSpec } from "../compiler/index.js";
import { loadAddon } from "../runtime/native/addon.js";
import { PROJECT_ROOT } from "../runtime/paths.js";
import { writeFileAtomic } from "../util/write-atomic.js";
import { writePairedSection } from "./paired-report.js";
import { ourSide, pairedRound, torchSide } from "./paired-sides.js";
import { generationFlops } from "./plan-flops.js";
import type { BatchCeilingFile, BatchCeilingRound } from "./results.js";
import { SAMPLING, type OurSampling } from "./sampling.js";

const { values: opts } = parseArgs({
  options: {
    spec: { type: "string", default: "specs/12-baby-gpt.yaml" },
    rounds: { type: "string", default: "5" },
    settings: { type: "string", default: "1x1,1x2,omp2" },
    backend: { type: "string", default: "native" },
  },
});

const VOCAB = 65; // bench/child.ts's and bench_torch.py's default: tinyshakespeare's characters
const plan = decodePlan(lowerSpec(loadSpec(join(PROJECT_ROOT, opts.spec), { cwd: PROJECT_ROOT })), VOCAB);
if ("unsupported" in plan) throw new Error(`${opts.spec}: no decode plan (${plan.unsupported})`);
const B = SAMPLING.batch;
const within = plan.blockSize - SAMPLING.promptTokens;
if (within <= 0 || within >= SAMPLING.newTokens) throw new Error(`${opts.spec}: the protocol's ${SAMPLING.newTokens} new tokens do not pass a context of ${plan.blockSize}`);
const flops = {
  one: generationFlops(plan, 1, SAMPLING.promptTokens, SAMPLING.newTokens),
  batch: generationFlops(plan, B, SAMPLING.promptTokens, SAMPLING.newTokens),
  oneWithin: generationFlops(plan, 1, SAMPLING.promptTokens, within),
  batchWithin: generationFlops(plan, B, SAMPLING.promptTokens, within),
};

const settings = opts.settings.split(",");
const torchBest = (batch: number): number => Math.max(...torchSide(opts.spec, settings, batch).map((s) => s.tokensPerSec));
const find = (runs: readonly OurSampling[], batch: number, newTokens: number): number => {
  const r = runs.find((s) => s.cached && s.path === "plan" && (s.batch ?? 1) === batch && s.newTokens === newTokens);
  if (!r) throw new Error(`bench/child.ts: no decode-plan generation of ${batch} × ${newTokens} tokens`);
  return r.tokensPerSec;
};

/** The machine's product speed (GFLOP/s): cores × the best of a few single-threaded square sgemm calls. */
function productGflops(): number {
  const addon = loadAddon();
  let best = 0;
  for (const n of [1024, 1536]) {
    const a = Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000);
    const c = new Float32Array(n * n);
    addon.sgemm(0, false, false, n, n, n, 1, a, n, a, n, 0, c, n); // warm-up
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      addon.sgemm(0, false, false, n, n, n, 1, a, n, a, n, 0, c, n);
      best = Math.max(best, (2 * n ** 3) / ((performance.now() - t0) / 1000) / 1e9);
    }
  }
  return cpus().length * best;
}

// Our side: the protocol's generations, then the product speed in this process; PyTorch's: one row, a batch.
const ours = (): { runs: OurSampling[]; productGflops: number } => ({ runs: ourSide(opts.spec, opts.backend), productGflops: productGflops() });
const torch = (): { torchOne: number; torchBatch: number } => ({ torchOne: torchBest(1), torchBatch: torchBest(B) });

const rounds: BatchCeilingRound[] = [];
for (let i = 0; i < Number(opts.rounds); i++) {
  const { ours: o, torch: t } = pairedRound(i, ours, torch);
  const round: BatchCeilingRound = {
    one: find(o.runs, 1, SAMPLING.newTokens),
    batch: find(o.runs, B, SAMPLING.newTokens),
    oneWithin: find(o.runs, 1, within),
    batchWithin: find(o.runs, B, within),
    ...t,
    productGflops: o.productGflops,
    load: loadavg()[0]!,
  };
  rounds.push(round);
  const ceiling = (B * SAMPLING.newTokens * round.productGflops * 1e9) / flops.batch / round.one;
  console.error(
    `round ${i + 1}: ours ${round.one.toFixed(0)} → ${round.batch.toFixed(0)} tokens/s (${(round.batch / round.one).toFixed(2)}×), PyTorch ${round.torchOne.toFixed(0)} → ${round.torchBatch.toFixed(0)} (${(round.torchBatch / round.torchOne).toFixed(2)}×), products at ${round.productGflops.toFixed(0)} GFLOP/s: ceiling ${ceiling.toFixed(2)}× (load ${round.load.toFixed(1)})`,
  );
}

const date = new Date().toISOString();
const out: BatchCeilingFile = {
  command: ["node --import tsx bench/batch-ceiling.ts", ...process.argv.slice(2)].join(" "),
  date,
  machine: { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length },
  backend: opts.backend,
  spec: opts.spec,
  protocol: SAMPLING,
  withinContextTokens: within,
  flops,
  rounds,
};
const file = join(PROJECT_ROOT, "bench/results", `batch-ceiling-${date.slice(0, 10)}.json`);
mkdirSync(join(PROJECT_ROOT, "bench/results"), { recursive: true });
writeFileAtomic(file, `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote ${file}`);
console.log(`wrote ${writePairedSection()} (its paired section)`);

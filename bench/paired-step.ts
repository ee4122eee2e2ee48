// Our training step against PyTorch's, paired: rounds one after another, each round one measurement of
// ours (bench/child.ts in a process of its own, the steps alone) and one of PyTorch's in each training
// style and thread setting asked for (bench_torch.py, a worker per setting), the order flipped every
// round, so that a machine whose load drifts (a shared one) weighs on both sides of a round alike. Each
// measurement is the median step of its process after its warm-up; a round's ratio is PyTorch's fastest
// setting's milliseconds over ours (above 1: ours is faster); the figure is the median over the rounds.
// Writes bench/results/paired-step-<date>.json.
//
//   node --import tsx bench/paired-step.ts [--spec specs/01-bigram.yaml] [--rounds 8]
//                                          [--settings 1x1 2x1] [--styles babygpt nanogpt] [--backend native]
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PROJECT_ROOT } from "../runtime/paths.js";
import { writeFileAtomic } from "../util/write-atomic.js";
import { CONFIGS } from "./bench.js";
import { writePairedSection } from "./paired-report.js";
import { pairedRound } from "./paired-sides.js";
import { median } from "./median.js";

const { values: opts } = parseArgs({
  options: {
    spec: { type: "string", default: "specs/01-bigram.yaml" },
    rounds: { type: "string", default: "8" },
    settings: { type: "string", multiple: true, default: ["1x1"] },
    styles: { type: "string", multiple: true, default: ["babygpt", "nanogpt"] },
    backend: { type: "string", default: "native" },
  },
});

const config = CONFIGS.find((c) => c.spec === opts.spec) ?? { name: opts.spec, spec: opts.spec, iters: 30, warmup: 5 };
const steps = ["--iters", String(config.iters), "--warmup", String(config.warmup)];

/** Our median step (ms): bench/child.ts with no sampling. */
function ours(): number {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "bench/child.ts"), "--spec", opts.spec, "--backend", opts.backend, ...steps, "--sample-tokens", "0", "--no-sgemm"], { cwd: PROJECT_ROOT, encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`bench/child.ts: ${(r.stderr || r.stdout).trim().split("\n").at(-1)}`);
  const times = r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; warmup?: boolean; ms?: number })
    .filter((e) => e.type === "iter" && !e.warmup)
    .map((e) => e.ms!);
  return median(times);
}

/** PyTorch's median step (ms) per style and setting: bench_torch.py, no sampling. */
function torch(): { style: string; setting: string; ms: number }[] {
  const args = [join(PROJECT_ROOT, "bench/reference/bench_torch.py"), join(PROJECT_ROOT, opts.spec), ...steps, "--sample-tokens", "0", "--settings", ...opts.settings, "--styles", ...opts.styles];
  const r = spawnSync("/usr/bin/python3", args, { cwd: PROJECT_ROOT, encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`bench_torch.py: ${(r.stderr || "").trim().split("\n").at(-1)}`);
  const raw = JSON.parse(r.stdout) as { settings: { style: string; setting: string; ms_per_iter?: number; error?: string }[] };
  return raw.settings.filter((s) => !s.error).map((s) => ({ style: s.style, setting: s.setting, ms: s.ms_per_iter! }));
}

const rounds: { ours: number; torch: { style: string; setting: string; ms: number }[]; ratio: number; load: number }[] = [];
for (let i = 0; i < Number(opts.rounds); i++) {
  const { ours: o, torch: t } = pairedRound(i, ours, torch);
  const fastest = Math.min(...t.map((s) => s.ms));
  const round = { ours: o, torch: t, ratio: fastest / o, load: loadavg()[0]! };
  rounds.push(round);
  console.error(`round ${i + 1}: ours ${o.toFixed(3)} ms, PyTorch ${t.map((s) => `${s.style} ${s.setting} ${s.ms.toFixed(3)} ms`).join(", ")}: ${round.ratio.toFixed(2)}× (load ${round.load.toFixed(1)})`);
}
const ratio = median(rounds.map((r) => r.ratio));
const date = new Date().toISOString();
const results = {
  command: ["node --import tsx bench/paired-step.ts", ...process.argv.slice(2)].join(" "),
  date,
  machine: { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length },
  spec: opts.spec,
  backend: opts.backend,
  steps: { iters: config.iters, warmup: config.warmup },
  rounds,
  medianRatio: ratio,
  oursMedianMs: median(rounds.map((r) => r.ours)),
  torchFastestMedianMs: median(rounds.map((r) => Math.min(...r.torch.map((s) => s.ms)))),
};
const dir = join(PROJECT_ROOT, "bench/results");
mkdirSync(dir, { recursive: true });
const file = join(dir, `paired-step-${date.slice(0, 10)}.json`);
writeFileAtomic(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`${opts.spec}: PyTorch's fastest / ours, median of ${rounds.length} paired rounds: ${ratio.toFixed(2)}× (ours ${results.oursMedianMs.toFixed(3)} ms, PyTorch ${results.torchFastestMedianMs.toFixed(3)} ms); wrote ${file}`);
console.log(`wrote ${writePairedSection()} (its paired section)`);

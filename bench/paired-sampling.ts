// Our sampling against PyTorch's, paired: for each config, rounds one after another, each round one
// process of ours (bench/child.ts with no training steps: the protocol's generations, bench/sample-runs.ts)
// and one of PyTorch's (bench_torch.py --sample-only, a worker per thread setting asked for), the order
// flipped every round, so that a machine whose speed drifts (a shared one: the same product can take
// twice as long an hour later) weighs on both sides of a round alike. Each side's figure is the median of
// the protocol's repeats; a round's ratio is ours (the decode plan with the KV cache, one sample) over
// PyTorch's fastest setting; the figure is the median over the rounds. Beside it, from our side of each
// round: the cache against no cache, and a batch of the protocol's size against one sample, by the
// protocol and within the context. Writes bench/results/paired-sampling-<date>.json, which
// `docs/bench.md`'s sampling section shows.
//
//   node --import tsx bench/paired-sampling.ts [--only bigram,baby,lecture] [--rounds 5]
//                                              [--settings 1x1,1x2,omp2] [--backend native]
import { mkdirSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PROJECT_ROOT } from "../runtime/paths.js";
import { writeFileAtomic } from "../util/write-atomic.js";
import { CONFIGS } from "./bench.js";
import { writePairedSection } from "./paired-report.js";
import { ourSide, pairedRound, torchSide } from "./paired-sides.js";
import { SAMPLING, type OurSampling } from "./sampling.js";
import type { PairedSampling, PairedSamplingRound } from "./results.js";
import { median } from "./median.js";

const { values: opts } = parseArgs({
  options: {
    only: { type: "string", default: "bigram,baby,lecture" },
    rounds: { type: "string", default: "5" },
    settings: { type: "string", default: "1x1,1x2,omp2" },
    backend: { type: "string", default: "native" },
  },
});

/** One round's figures from our side's generations. */
function ourFigures(runs: readonly OurSampling[]): Omit<PairedSamplingRound, "torch" | "ratio" | "load"> {
  const find = (cached: boolean, batch: number, newTokens: number): OurSampling | undefined =>
    runs.find((s) => s.cached === cached && (s.path ?? "forward") === "plan" && (s.batch ?? 1) === batch && s.newTokens === newTokens);
  const one = find(true, 1, SAMPLING.newTokens);
  const uncached = find(false, 1, SAMPLING.newTokens);
  if (!one || !uncached) throw new Error("bench/child.ts: no decode-plan generation (does this backend run plans?)");
  const batch = find(true, SAMPLING.batch, SAMPLING.newTokens);
  // Within the context: the counts sample-runs.ts chose (fewer new tokens than the protocol's).
  const inner = runs.find((s) => s.cached && s.path === "plan" && (s.batch ?? 1) === 1 && s.newTokens < SAMPLING.newTokens);
  const innerBatch = inner && find(true, SAMPLING.batch, inner.newTokens);
  return {
    ours: one.tokensPerSec,
    uncached: uncached.tokensPerSec,
    ...(batch ? { batchByProtocol: batch.tokensPerSec / one.tokensPerSec } : {}),
    ...(inner && innerBatch ? { batchWithinContext: innerBatch.tokensPerSec / inner.tokensPerSec, withinContextTokens: inner.newTokens } : {}),
  };
}

const configs = CONFIGS.filter((c) => opts.only.split(",").some((o) => c.name.toLowerCase().startsWith(o)));
const rounds = Number(opts.rounds);
const settings = opts.settings.split(",");
const results: PairedSampling[] = [];
for (const config of configs) {
  const done: PairedSamplingRound[] = [];
  for (let i = 0; i < rounds; i++) {
    const { ours: o, torch: t } = pairedRound(
      i,
      () => ourSide(config.spec, opts.backend),
      () => torchSide(config.spec, settings),
    );
    const figures = ourFigures(o);
    const fastest = Math.max(...t.map((s) => s.tokensPerSec));
    const round: PairedSamplingRound = { ...figures, torch: t, ratio: figures.ours / fastest, load: loadavg()[0]! };
    done.push(round);
    console.error(
      `${config.name} round ${i + 1}: ours ${figures.ours.toFixed(0)} tokens/s (no cache ${figures.uncached.toFixed(0)}), PyTorch ${t.map((s) => `${s.setting} ${s.tokensPerSec.toFixed(0)}`).join(", ")}: ${round.ratio.toFixed(2)}× (load ${round.load.toFixed(1)})`,
    );
  }
  const med = (f: (r: PairedSamplingRound) => number | undefined): number | undefined => {
    const xs = done.map(f).filter((x): x is number => x !== undefined);
    return xs.length ? median(xs) : undefined;
  };
  results.push({
    config: config.name,
    spec: config.spec,
    rounds: done,
    medianRatio: med((r) => r.ratio)!,
    oursMedian: med((r) => r.ours)!,
    torchFastestMedian: med((r) => Math.max(...r.torch.map((s) => s.tokensPerSec)))!,
    cacheOverNoCache: med((r) => r.ours / r.uncached)!,
    ...(med((r) => r.batchByProtocol) !== undefined ? { batchByProtocol: med((r) => r.batchByProtocol)! } : {}),
    ...(med((r) => r.batchWithinContext) !== undefined ? { batchWithinContext: med((r) => r.batchWithinContext)!, withinContextTokens: done.find((r) => r.withinContextTokens)!.withinContextTokens! } : {}),
  });
}

const date = new Date().toISOString();
const file = join(PROJECT_ROOT, "bench/results", `paired-sampling-${date.slice(0, 10)}.json`);
mkdirSync(join(PROJECT_ROOT, "bench/results"), { recursive: true });
const out = {
  command: ["node --import tsx bench/paired-sampling.ts", ...process.argv.slice(2)].join(" "),
  date,
  machine: { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length },
  backend: opts.backend,
  protocol: SAMPLING,
  configs: results,
};
writeFileAtomic(file, `${JSON.stringify(out, null, 2)}\n`);
for (const r of results) {
  console.log(
    `${r.config}: ours / PyTorch's fastest, median of ${r.rounds.length} paired rounds: ${r.medianRatio.toFixed(2)}× (ours ${r.oursMedian.toFixed(0)} tokens/s, PyTorch ${r.torchFastestMedian.toFixed(0)}); ` +
      `cache / no cache ${r.cacheOverNoCache.toFixed(2)}×` +
      (r.batchByProtocol !== undefined ? `; a batch of ${SAMPLING.batch} / one: ${r.batchByProtocol.toFixed(2)}× by the protocol` : "") +
      (r.batchWithinContext !== undefined ? `, ${r.batchWithinContext.toFixed(2)}× within the context (${r.withinContextTokens} tokens)` : ""),
  );
}
console.log(`wrote ${file}`);
console.log(`wrote ${writePairedSection()} (its paired section)`);

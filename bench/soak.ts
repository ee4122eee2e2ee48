// Soak: trains a small model for 2,000 steps and then samples 10,000 tokens from its checkpoint, recording
// the number of live tensors (tf.memory().numTensors) and the process's resident memory along the way.
// A leak shows as a count or an RSS that keeps rising; a healthy run is flat after warm-up. Prints a table
// and writes bench/results/soak-<date>.json.
//
//   node --import tsx bench/soak.ts [--spec specs/09-layernorm.yaml] [--steps 2000] [--tokens 10000]
//                                   [--every 100] [--backend auto] [--batch 8]
//
// Needs the corpus like `train` does (--data is not taken: set BABYGPT_DATA_DIR, or have it cached).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { BackendChoice } from "../runtime/backend/select.js";
import { tf } from "../runtime/nn/tf.js";
import { PROJECT_ROOT } from "../runtime/paths.js";
import { Prng } from "../runtime/random.js";
import { openRun } from "../runtime/run.js";
import { generate } from "../runtime/sample.js";
import { train } from "../runtime/train/trainer.js";

const { values: opts } = parseArgs({
  options: {
    spec: { type: "string", default: "specs/09-layernorm.yaml" },
    steps: { type: "string", default: "2000" },
    tokens: { type: "string", default: "10000" },
    every: { type: "string", default: "100" },
    backend: { type: "string", default: "auto" },
    batch: { type: "string", default: "8" },
  },
});
const steps = Number(opts.steps);
const tokens = Number(opts.tokens);
const every = Number(opts.every);

interface Point {
  readonly phase: "train" | "sample";
  /** Optimizer steps done, or tokens sampled. */
  readonly at: number;
  readonly numTensors: number;
  readonly tensorBytes: number;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  /** ArrayBuffers and other memory outside the JS heap that JS objects hold (tensor data on the CPU backends). */
  readonly externalMiB: number;
  readonly seconds: number;
}

const MiB = 2 ** 20;
const started = performance.now();
const points: Point[] = [];
const record = (phase: Point["phase"], at: number): void => {
  const mem = tf.memory();
  const proc = process.memoryUsage();
  points.push({
    phase,
    at,
    numTensors: mem.numTensors,
    tensorBytes: mem.numBytes,
    rssMiB: Math.round((proc.rss / MiB) * 10) / 10,
    heapUsedMiB: Math.round((proc.heapUsed / MiB) * 10) / 10,
    externalMiB: Math.round((proc.external / MiB) * 10) / 10,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  });
};

const out = join(mkdtempSync(join(tmpdir(), "babygpt-soak-")), "run");
const sets = [`training.batch_size=${opts.batch}`, "training.eval_interval=500", "training.eval_iters=10"];
const result = await train({
  spec: opts.spec,
  sets,
  iters: steps,
  out,
  backend: opts.backend as BackendChoice,
  reporter: {
    log: () => {},
    done: () => {},
    step: (step) => {
      if (step === 1 || step % every === 0) record("train", step);
    },
  },
});
record("train", result.step); // after the model and optimizer are disposed

const run = await openRun(out, opts.backend as BackendChoice);
record("sample", 0);
const sampleEvery = Math.max(1, Math.round((tokens * every) / steps));
let sampled = 0;
await generate(run.model, Array.from(run.tokenizer.encode("\n")), { tokens, temperature: 1, rng: new Prng(1337) }, () => {
  sampled += 1;
  if (sampled === 1 || sampled % sampleEvery === 0) record("sample", sampled);
});
run.model.dispose();
record("sample", sampled); // after the sampling model is disposed
rmSync(join(out, ".."), { recursive: true, force: true });

// ── report ──────────────────────────────────────────────────────────────────────────────────────────
const pick = (phase: Point["phase"], at: number): Point => points.filter((p) => p.phase === phase && p.at <= at).at(-1)!;
const lastOf = (phase: Point["phase"]): Point => points.filter((p) => p.phase === phase).at(-2)!; // before disposal
const rows: [string, Point][] = [
  ["train, step 1", pick("train", 1)],
  [`train, step ${steps / 2}`, pick("train", steps / 2)],
  [`train, step ${steps}`, lastOf("train")],
  ["train, after dispose", points.filter((p) => p.phase === "train").at(-1)!],
  ["sample, token 1", pick("sample", 1)],
  [`sample, token ${tokens / 2}`, pick("sample", tokens / 2)],
  [`sample, token ${tokens}`, lastOf("sample")],
  ["sample, after dispose", points.at(-1)!],
];
const header = ["point", "numTensors", "tensor MiB", "RSS MiB", "heap MiB", "external MiB", "s"];
const table = [header, ...rows.map(([name, p]) => [name, String(p.numTensors), (p.tensorBytes / MiB).toFixed(2), p.rssMiB.toFixed(1), p.heapUsedMiB.toFixed(1), p.externalMiB.toFixed(1), p.seconds.toFixed(1)])];
const widths = header.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
for (const r of table) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "));

const trainPoints = points.filter((p) => p.phase === "train").slice(0, -1);
const samplePoints = points.filter((p) => p.phase === "sample").slice(1, -1);
const spread = (ps: Point[], f: (p: Point) => number): [number, number] => [Math.min(...ps.map(f)), Math.max(...ps.map(f))];
const summary = {
  trainTensors: spread(trainPoints.slice(1), (p) => p.numTensors),
  sampleTensors: spread(samplePoints, (p) => p.numTensors),
  trainRssMiB: spread(trainPoints, (p) => p.rssMiB),
  sampleRssMiB: spread(samplePoints, (p) => p.rssMiB),
  tensorsLeftAfterDispose: points.at(-1)!.numTensors,
};
console.log(
  `\nlive tensors: training ${summary.trainTensors.join("–")} (from step ${every}), sampling ${summary.sampleTensors.join("–")}, ${summary.tensorsLeftAfterDispose} left at the end` +
    `\nRSS: training ${summary.trainRssMiB.join("–")} MiB, sampling ${summary.sampleRssMiB.join("–")} MiB` +
    `\n${result.backend.name} backend, ${result.msPerIter.toFixed(1)} ms/step, ${opts.spec} (${sets.join(", ")})`,
);

const date = new Date().toISOString().slice(0, 10);
const dir = join(PROJECT_ROOT, "bench/results");
mkdirSync(dir, { recursive: true });
const file = join(dir, `soak-${date}.json`);
writeFileSync(
  file,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, backend: result.backend.name, spec: opts.spec, sets, steps, tokens, msPerStep: result.msPerIter, summary, points }, null, 2)}\n`,
);
console.log(`wrote ${file}`);

// Sampling speed with and without the KV cache, like for like: one model (a spec's, at its initial
// weights: speed does not depend on them), the same prompt length and number of new tokens, the same
// seed, in one process, the two paths alternating. Writes bench/results/sampling-<date>.json.
//
//   node --import tsx bench/sample-cache.ts --spec specs/11-gpt.yaml --backend native --prompt 1 --tokens 255
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadSpec } from "../compiler/spec/load.js";
import { selectBackend, type BackendChoice } from "../runtime/backend/select.js";
import { resolveModel } from "../runtime/model-source.js";
import { PROJECT_ROOT } from "../runtime/paths.js";
import { Prng } from "../runtime/random.js";
import { generate } from "../runtime/sample.js";

const { values: opts } = parseArgs({
  options: {
    spec: { type: "string", default: "specs/11-gpt.yaml" },
    backend: { type: "string", default: "auto" },
    prompt: { type: "string", default: "1" },
    tokens: { type: "string", default: "255" },
    repeats: { type: "string", default: "2" },
    vocab: { type: "string", default: "65" },
    out: { type: "string" },
  },
});

const specPath = join(PROJECT_ROOT, opts.spec);
const loaded = loadSpec(specPath, { cwd: PROJECT_ROOT });
const backend = await selectBackend(opts.backend as BackendChoice);
const { module } = await resolveModel(specPath, loaded, { compile: false, sets: [] });
const vocab = Number(opts.vocab);
const model = module.createModel({ vocabSize: vocab, seed: 1 }).eval();
const prompt = Array.from({ length: Number(opts.prompt) }, (_, i) => i % vocab);
const tokens = Number(opts.tokens);

const timed = async (cache: boolean): Promise<{ seconds: number; ids: number[] }> => {
  const started = performance.now();
  const ids = await generate(model, prompt, { tokens, temperature: 0, rng: new Prng(3), cache });
  return { seconds: (performance.now() - started) / 1000, ids };
};
await timed(true); // warm-up: kernels, masks, the pool
await timed(false);
const runs: { cache: boolean; seconds: number }[] = [];
let same = true;
for (let r = 0; r < Number(opts.repeats); r++) {
  const a = await timed(true);
  const b = await timed(false);
  same &&= a.ids.join() === b.ids.join();
  runs.push({ cache: true, seconds: a.seconds }, { cache: false, seconds: b.seconds });
}
const best = (cache: boolean): number => Math.min(...runs.filter((r) => r.cache === cache).map((r) => r.seconds));
const result = {
  command: `node --import tsx bench/sample-cache.ts ${process.argv.slice(2).join(" ")}`.trim(),
  date: new Date().toISOString(),
  spec: opts.spec,
  backend: backend.name,
  machine: { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length },
  parameters: model.parameterCount(),
  blockSize: model.blockSize,
  promptTokens: prompt.length,
  newTokens: tokens,
  greedyIdentical: same,
  tokensPerSec: { cache: tokens / best(true), noCache: tokens / best(false) },
  speedup: best(false) / best(true),
  runs,
};
const out = opts.out ?? join(PROJECT_ROOT, "bench/results", `sampling-${result.date.slice(0, 10)}.json`);
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`${opts.spec} on ${backend.name}: ${result.tokensPerSec.cache.toFixed(1)} tokens/s with the KV cache, ${result.tokensPerSec.noCache.toFixed(1)} without (${result.speedup.toFixed(2)}×); greedy output ${same ? "identical" : "DIFFERS"}; ${out}`);
model.dispose();

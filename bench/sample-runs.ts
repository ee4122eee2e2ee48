// Our side of the sampling protocol (bench/sampling.ts), run by the benchmark's child (bench/child.ts):
// the timed generations, and where a sampled token's time goes.
//
// The generations: the decode plan with the KV cache (what `generate` runs by default) and without it,
// the generated forward with the cache (how every generation ran before the plan), a batch of the
// protocol's size against the one sample, and, where the protocol's tokens pass the context (so that
// every later token is a whole window's forward for each sample), the same two within the context.
// Each is warmed up once, then timed the protocol's repeats times, the runs in turn (forwards, then
// backwards), so that drifting load weighs on all alike; the median is the figure.
import type { DecodePlan, NoPlan } from "../compiler/index.js";
import type { LanguageModel } from "../runtime/nn/language-model.js";
import { tf } from "../runtime/nn/tf.js";
import { Prng } from "../runtime/random.js";
import { forwardStep, generateBatch, nextFeed, pickToken } from "../runtime/sample.js";
import type { DecodeProfile } from "../runtime/sampling/backends.js";
import type { OurSampling, SampleProfile, SamplingProtocol } from "./sampling.js";
import { median } from "./median.js";

interface Run {
  readonly cached: boolean;
  readonly path: "plan" | "forward";
  readonly batch: number;
  readonly newTokens: number;
}

/** Timed seconds each run gathers at least (rounds past the protocol's repeats, up to MAX_REPEATS). */
const MIN_SECONDS = 0.2;
const MAX_REPEATS = 201;

/** Seconds of one generation of `run` from `prompt`, samples drawn from seeds 3, 4, … */
async function generation(model: LanguageModel, plan: DecodePlan | NoPlan, prompt: readonly number[], run: Run, tokens: number, seed = 3): Promise<{ seconds: number; path: "plan" | "forward" }> {
  const rngs = Array.from({ length: run.batch }, (_, i) => new Prng(seed + i));
  const began = performance.now();
  const r = await generateBatch(model, prompt, { tokens, temperature: 1, rngs, plan, cache: run.cached, path: run.path === "forward" ? "forward" : "auto" });
  return { seconds: (performance.now() - began) / 1000, path: r.path.kind };
}

/** The protocol's generations, each emitted as it is measured (a run killed later keeps them). */
export async function timeSampling(model: LanguageModel, plan: DecodePlan | NoPlan, p: SamplingProtocol, emit: (s: OurSampling) => void): Promise<void> {
  const vocab = model.vocabSize;
  const prompt = Array.from({ length: p.promptTokens }, (_, i) => i % vocab);
  // On a backend that runs no plans, the plan's runs would time the generated forward again.
  const planRuns = (await generation(model, plan, prompt, { cached: true, path: "plan", batch: 1, newTokens: 1 }, 1)).path === "plan";
  const within = model.blockSize - p.promptTokens;
  const runs: Run[] = planRuns
    ? [
        { cached: true, path: "plan", batch: 1, newTokens: p.newTokens },
        { cached: false, path: "plan", batch: 1, newTokens: p.newTokens },
        { cached: true, path: "forward", batch: 1, newTokens: p.newTokens },
        ...(p.batch > 1 ? [{ cached: true, path: "plan", batch: p.batch, newTokens: p.newTokens } as const] : []),
        ...(within > 0 && within < p.newTokens
          ? ([
              { cached: true, path: "plan", batch: 1, newTokens: within },
              ...(p.batch > 1 ? [{ cached: true, path: "plan", batch: p.batch, newTokens: within } as const] : []),
            ] as const)
          : []),
      ]
    : [
        { cached: true, path: "forward", batch: 1, newTokens: p.newTokens },
        { cached: false, path: "forward", batch: 1, newTokens: p.newTokens },
      ];
  for (const run of runs) await generation(model, plan, prompt, run, p.warmupTokens, 2);
  const seconds = runs.map((): number[] => []);
  // The protocol's repeats at least; more rounds while any run has been timed for less than MIN_SECONDS
  // in all (the bigram's generation takes under a millisecond: a median of three would be the timer's).
  const short = (): boolean => seconds.some((xs) => xs.reduce((a, b) => a + b, 0) < MIN_SECONDS);
  for (let r = 0; r < p.repeats || (short() && r < MAX_REPEATS); r++) {
    const order = runs.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) seconds[i]!.push((await generation(model, plan, prompt, runs[i]!, runs[i]!.newTokens)).seconds);
  }
  runs.forEach((run, i) => {
    const s = median(seconds[i]!);
    emit({ cached: run.cached, path: run.path, batch: run.batch, promptTokens: prompt.length, newTokens: run.newTokens, seconds: s, tokensPerSec: (run.batch * run.newTokens) / s, repeats: seconds[i]!.length });
  });
}

/**
 * Where a sampled token's time goes, by the protocol (one sample, the KV cache): before, the generated
 * forward and pickToken in JavaScript, split into the forward (of which the kernels, timed by tf.profile
 * in a generation of its own, and the engine's work around them: tensors, dispatch, scopes), the read of
 * the logits, the draw and the rest of the loop; after, the decode plan, split by kind of step as the
 * addon's decoder times them, the draw, and the rest of the wall time (the loop in JavaScript, the calls
 * into the addon, making the decoder). Undefined where the backend runs no plans.
 */
export async function profileSampling(model: LanguageModel, plan: DecodePlan | NoPlan, p: SamplingProtocol): Promise<SampleProfile | undefined> {
  const prompt = Array.from({ length: p.promptTokens }, (_, i) => i % model.vocabSize);
  const n = p.newTokens;
  const us = (ms: number): number => (ms * 1000) / n;

  // Before: the generated forward, read, pickToken; timed by part.
  const before = async (): Promise<{ total: number; forward: number; read: number; draw: number }> => {
    const forward = forwardStep(model, 1);
    const rng = new Prng(3);
    const ids = [...prompt];
    let cached = 0;
    const t = { forward: 0, read: 0, draw: 0 };
    const began = performance.now();
    for (let i = 0; i < n; i++) {
      const feed = nextFeed(ids.length, model.blockSize, true, cached);
      const tokens = Int32Array.from(ids.slice(feed.start));
      const a = performance.now();
      const last = forward.logits(tokens, tokens.length, feed.past, feed.keep);
      const b = performance.now();
      const values = (await last.data()) as Float32Array;
      last.dispose();
      const c = performance.now();
      ids.push(pickToken(values, 1, undefined, rng));
      t.draw += performance.now() - c;
      t.forward += b - a;
      t.read += c - b;
      cached = feed.keep ? ids.length - 1 : 0;
    }
    const total = performance.now() - began;
    forward.dispose();
    return { total, ...t };
  };
  await before(); // warm-up
  const b = await before();
  const profiled = await tf.profile(async () => void (await before()));
  const kernels = profiled.kernels.reduce((sum, k) => sum + (typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0), 0);

  // After: the decode plan, the decoder's own times.
  let decoder: DecodeProfile | undefined;
  const after = async (): Promise<number> => {
    const began = performance.now();
    const r = await generateBatch(model, prompt, { tokens: n, temperature: 1, rngs: [new Prng(3)], plan, onProfile: (d) => (decoder = d) });
    if (r.path.kind !== "plan") return NaN;
    return performance.now() - began;
  };
  await after();
  const wall = await after();
  if (!Number.isFinite(wall) || !decoder) return undefined;
  const d: DecodeProfile = decoder;
  const nsUs = (ns: number): number => ns / 1000 / n;
  return {
    newTokens: n,
    before: {
      total: us(b.total),
      kernels: us(Math.min(kernels, b.forward)),
      engine: us(Math.max(0, b.forward - kernels)),
      read: us(b.read),
      draw: us(b.draw),
      loop: us(Math.max(0, b.total - b.forward - b.read - b.draw)),
    },
    after: {
      total: us(wall),
      steps: Object.fromEntries(Object.entries(d.byKind).filter(([, ns]) => ns > 0).map(([kind, ns]) => [kind, nsUs(ns)])),
      draw: nsUs(d.sampling),
      call: Math.max(0, us(wall) - nsUs(d.total)),
    },
  };
}

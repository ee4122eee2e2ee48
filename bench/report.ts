// docs/bench.md from a benchmark's results (bench/results/<date>.json): the tables, the before/after
// figures, and a plain reason next to every number that is missing or off. Rendering is separate from
// measuring so that `babygpt bench --render <json>` can rewrite the report without timing anything again.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import { loadSpec } from "../compiler/index.js";
import { writeFileAtomic } from "../util/write-atomic.js";
import { formatInt } from "../util/format.js";
import { UserError } from "../runtime/errors.js";
import { PROJECT_ROOT } from "../runtime/paths.js";
import type { BenchReport, OurResult, TorchSetting } from "./results.js";
import { dataSectionOf, withDataSection } from "./data-report.js";
import { keepGpuSection } from "./gpu-report.js";
import { pairedSectionOf, withPairedSection } from "./paired-report.js";
import type { OurSampling } from "./sampling.js";

/** A results file: the report plus the command that produced it. */
export type BenchResults = BenchReport & { readonly command: string };

type Config = BenchReport["configs"][number];

const compileTemplate = (name: string): HandlebarsTemplateDelegate =>
  Handlebars.compile(readFileSync(fileURLToPath(new URL(`./templates/${name}`, import.meta.url)), "utf8"), { noEscape: true });
const template = compileTemplate("bench.md.hbs");
const readmeTemplate = compileTemplate("readme-summary.md.hbs");

const fmt = (n: number | undefined, d = 1): string => (n === undefined || !Number.isFinite(n) ? "–" : n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }));

/** Milliseconds with three significant figures where they are small (the bigram's step is 0.1 ms). */
const fmtMs = (ms: number | undefined): string => fmt(ms, ms !== undefined && ms < 1 ? 3 : ms !== undefined && ms < 10 ? 2 : 1);

/** Backends that were in tfjs before this project added its own: the "before" of the performance work. */
const TFJS_BACKENDS = new Set(["wasm", "cpu", "tensorflow", "tensorflow-gpu"]);

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** What the run saw of a measurement before it ended: time, steps, memory. */
function seen(o: OurResult): string {
  const ob = o.observed;
  if (!ob) return "";
  const steps = ob.stepsDone === 0 ? "no training step finished" : `${plural(ob.stepsDone, "step")} finished, the first in ${fmt(ob.firstStepMs! / 1000, 1)} s`;
  return ` (${steps}; ${ob.exit} after ${fmt(ob.seconds, 0)} s${ob.lastRssMiB !== undefined ? `, RSS ${fmt(ob.lastRssMiB, 0)} MiB at the last step` : ""})`;
}

/**
 * Why a measurement has no number, from what the run observed (the raw message stays in the JSON): the
 * error it reported, whether the package it needs is on disk, how far it got. Never a guess at a cause.
 */
export function explainMissing(o: OurResult, config: Config): string {
  // "backend X is not available here: <the error>": the error is what was seen.
  const note = (o.note ?? "").replace(/^backend \S+ is not available here: /, "");
  const dir = o.observed?.packageDir;
  if (o.status === "unavailable" && dir) {
    return dir.exists ? `${dir.path} is installed but does not load: ${note}` : `not installed: ${dir.path} does not exist (an optional dependency; npm ci leaves it out where its install fails)`;
  }
  if (o.software) return `software adapter (${o.adapter ?? "unnamed"}): WebGPU emulated on the CPU, not a GPU figure${note ? `; ${note}` : ""}`;
  if (o.status === "failed" && /Aborted/.test(note)) {
    return `the wasm module aborted (\`${note.split(".")[0]}\`)${seen(o)}; the IR puts this model's training state at ${fmt(config.estimateMiB / 1024, 1)} GiB, and wasm32 memory ends at 4 GiB`;
  }
  if (o.status === "timeout" || o.status === "failed") return `${note}${seen(o)}`;
  return note;
}

/** Model FLOP utilization: FLOP/s (the IR's training FLOPs per token x tokens/s) over sgemm's. */
export function mfu(tokensPerSec: number | undefined, c: Config, sgemmGflops: number | undefined): number | undefined {
  if (tokensPerSec === undefined || !c.trainFlopsPerToken || !sgemmGflops) return undefined;
  return (tokensPerSec * c.trainFlopsPerToken) / (sgemmGflops * 1e9);
}

const pct = (x: number | undefined): string => (x === undefined ? "–" : `${(100 * x).toFixed(0)}%`);

/** What a PyTorch figure ran: the training step on the generated module, or (older results) the lecture's modules. */
function torchStyle(t: TorchSetting): string {
  return t.style === "nanogpt" ? "nanoGPT step" : t.style === "babygpt" ? "babygpt step" : "lecture modules";
}

/** The PyTorch figure's label: what it ran and its thread setting. */
function torchLabel(t: TorchSetting): string {
  return `${torchStyle(t)}, ${t.setting}`;
}

/** Why a memory estimate is more than 2× off the measurement, or nothing when it is within 2×. */
export function explainMemory(estimateMiB: number, measuredMiB: number): string {
  const ratio = measuredMiB / estimateMiB;
  if (ratio <= 2 && ratio >= 0.5) return "";
  if (estimateMiB < 1) return `the model's training state is ${fmt(estimateMiB * 1024, 0)} KiB: what grows is the backend's own buffers and compiled code, not the model`;
  return ratio > 2 ? "measured is over twice the estimate: allocations the IR does not model" : "measured is under half the estimate: the backend frees activations the estimate keeps";
}

/** Training tokens/s of one measurement over PyTorch's at its best thread setting, where both exist. */
export function tokensRatio(o: OurResult, c: Config): number | undefined {
  const t = c.torch.best;
  return o.tokensPerSec !== undefined && t ? o.tokensPerSec / t.tokens_per_sec : undefined;
}

const ratioCell = (r: number | undefined): string => (r === undefined ? "–" : `**${r.toFixed(2)}×**`);

/**
 * One of our sampling runs, where the results have it: the protocol's (one sample, its tokens), with the
 * cache or without, on the decode plan (results from before the plan ran the generated forward, and have
 * no path) or, `path: "forward"`, on the generated forward where the results timed both.
 */
const ourRun = (o: OurResult, cached: boolean, path: "plan" | "forward" = "plan"): OurSampling | undefined => {
  const runs = (o.sampling ?? []).filter((r) => r.cached === cached && (r.batch ?? 1) === 1);
  const longest = Math.max(...runs.map((r) => r.newTokens));
  const protocol = runs.filter((r) => r.newTokens === longest);
  const timedBoth = protocol.some((r) => r.path === "forward") && protocol.some((r) => r.path === "plan");
  return protocol.find((r) => (r.path ?? "forward") === path || (!timedBoth && path === "plan"));
};

/** Our batch runs against the one sample of the same length, both on the decode plan with the cache. */
function batchRuns(o: OurResult): { one: OurSampling; batch: OurSampling }[] {
  const plan = (o.sampling ?? []).filter((r) => r.path === "plan" && r.cached);
  return plan.filter((r) => (r.batch ?? 1) > 1).flatMap((batch) => {
    const one = plan.find((r) => (r.batch ?? 1) === 1 && r.newTokens === batch.newTokens);
    return one ? [{ one, batch }] : [];
  });
}

/** Our sampling tokens/s with the KV cache, or (results from before the protocol) the one figure there was. */
const ourSampleRate = (o: OurResult): number | undefined => (o.sampling ? ourRun(o, true)?.tokensPerSec : o.sampleTokensPerSec);

/** A PyTorch setting's sampling tokens/s: the protocol's run, or the figure of results from before it. */
const torchSampleRate = (s: TorchSetting): number | undefined => s.sampling?.tokens_per_sec ?? s.sample_tokens_per_sec;

/** PyTorch's fastest sampling run by the protocol over its thread settings, where there is one. */
export function torchSampling(c: Config): TorchSetting | undefined {
  return (c.torch.settings ?? []).filter((s) => !s.error && s.sampling).sort((a, b) => b.sampling!.tokens_per_sec - a.sampling!.tokens_per_sec)[0];
}

const timesCell = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? "–" : `**${(a / b).toFixed(2)}×**`);

/**
 * Per config and backend: sampling by the one protocol, ours with the KV cache and without, PyTorch (no
 * cache), and the ratios. A missing figure is "–" with the reason in the note.
 */
export function samplingRows(results: BenchResults): Record<string, string>[] {
  return results.configs.flatMap((c) => {
    const t = torchSampling(c);
    const ts = t?.sampling;
    return c.ours
      .filter((o) => o.sampling || o.msPerIter !== undefined)
      .map((o) => {
        const cached = ourRun(o, true);
        const uncached = ourRun(o, false);
        const ours = cached ?? uncached;
        const notes: string[] = [];
        if (!o.sampling) notes.push("predates the sampling protocol: not compared");
        else if (!cached || !uncached) notes.push(`only the ${cached ? "cached" : "uncached"} run finished (${o.status})`);
        if (o.sampling && !ts) notes.push(c.torch.available ? "no PyTorch sampling run by the protocol" : `PyTorch not measured: ${c.torch.note ?? "unavailable"}`);
        const sameProtocol = (r: OurSampling | undefined): boolean => !r || !ts || (r.promptTokens === ts.prompt_tokens && r.newTokens === ts.new_tokens);
        if (!sameProtocol(cached) || !sameProtocol(uncached)) notes.push(`not like for like: ours ${ours!.promptTokens} + ${ours!.newTokens} tokens, PyTorch ${ts!.prompt_tokens} + ${ts!.new_tokens}`);
        const tokens = (r: { promptTokens: number; newTokens: number } | undefined): string => (r ? `${r.promptTokens} + ${r.newTokens}` : "–");
        const forward = ourRun(o, true, "forward");
        if (cached && (cached.path ?? "forward") === "forward") notes.push(`the generated forward: ${cached.path ? "this backend runs no decode plans" : "predates the decode plan"}`);
        return {
          config: c.name,
          backend: o.description ?? o.backend,
          tokens: tokens(ours),
          torchTokens: ts ? tokens({ promptTokens: ts.prompt_tokens, newTokens: ts.new_tokens }) : "–",
          cached: fmt(cached?.tokensPerSec, 1),
          uncached: fmt(uncached?.tokensPerSec, 1),
          speedup: timesCell(cached?.tokensPerSec, uncached?.tokensPerSec),
          forward: forward && forward !== cached ? fmt(forward.tokensPerSec, 1) : "–",
          torch: ts ? `${fmt(ts.tokens_per_sec, 1)} (${t!.setting})` : "–",
          cachedRatio: timesCell(cached?.tokensPerSec, ts?.tokens_per_sec),
          uncachedRatio: timesCell(uncached?.tokensPerSec, ts?.tokens_per_sec),
          note: notes.join("; "),
        };
      });
  });
}

/** Per config and backend: a batch of samples (`--num-samples`) against one, by the protocol and within the context. */
export function batchRows(results: BenchResults): Record<string, string>[] {
  return results.configs.flatMap((c) =>
    c.ours.flatMap((o) =>
      batchRuns(o).map(({ one, batch }) => ({
        config: c.name,
        backend: o.description ?? o.backend,
        tokens: `${one.promptTokens} + ${one.newTokens}${one.promptTokens + one.newTokens > c.block ? ` (past the context of ${c.block})` : " (within the context)"}`,
        one: fmt(one.tokensPerSec, 0),
        batch: `${fmt(batch.tokensPerSec, 0)} (${batch.batch})`,
        ratio: timesCell(batch.tokensPerSec, one.tokensPerSec),
      })),
    ),
  );
}

/** µs per token, as the profile tables write them. */
const usCell = (x: number | undefined): string => (x === undefined ? "–" : x >= 100 ? fmt(x, 0) : fmt(x, 1));

/** What a kind of plan step is, in the profile table. */
const STEP_PROSE: Readonly<Record<string, string>> = {
  embed: "token embedding",
  positions: "position rows",
  linear: "linear layers (matrix products)",
  layer_norm: "layer norms",
  rms_norm: "RMS norms",
  activation: "activations",
  gated_activation: "gated activations",
  add: "residual sums",
  scale: "scales",
  scale_by: "learned scales",
  softcap: "caps",
  rope: "rotary embedding",
  attention: "attention (with its KV cache)",
  experts: "experts",
};

/** Where a sampled token's time goes, per config with a profile: before and after the decode plan. */
export function sampleProfiles(results: BenchResults): { config: string; backend: string; tokens: number; before: { part: string; us: string }[]; after: { part: string; us: string }[]; speedup: string }[] {
  return results.configs.flatMap((c) =>
    c.ours.flatMap((o) => {
      const p = o.sampleProfile;
      if (!p) return [];
      const share = (x: number, total: number): string => `${usCell(x)} (${pct(x / total)})`;
      const b = p.before;
      const a = p.after;
      return [
        {
          config: c.name,
          backend: o.description ?? o.backend,
          tokens: p.newTokens,
          before: [
            { part: "the forward's kernels (the arithmetic)", us: share(b.kernels, b.total) },
            { part: "the engine around them: tensors made and freed, dispatch, scopes", us: share(b.engine, b.total) },
            { part: "the read of the logits (`await data()`)", us: share(b.read, b.total) },
            { part: "the draw (pickToken in JavaScript)", us: share(b.draw, b.total) },
            { part: "the loop", us: share(b.loop, b.total) },
            { part: "**per token**", us: `**${usCell(b.total)}**` },
          ],
          after: [
            ...Object.entries(a.steps)
              .sort(([, x], [, y]) => y - x)
              .map(([kind, us]) => ({ part: STEP_PROSE[kind] ?? kind, us: share(us, a.total) })),
            { part: "the draw (in the decoder)", us: share(a.draw, a.total) },
            { part: "the rest: the loop in JavaScript, the calls into the addon, making the decoder", us: share(a.call, a.total) },
            { part: "**per token**", us: `**${usCell(a.total)}**` },
          ],
          speedup: `${fmt(b.total / a.total, 1)}×`,
        },
      ];
    }),
  );
}

/** PyTorch's sampling figure beside ours: the protocol's fastest run, or (older results) the best training setting's. */
const pytorchSampleRate = (c: Config): number | undefined => {
  const t = torchSampling(c);
  return t ? torchSampleRate(t) : c.torch.best ? torchSampleRate(c.torch.best) : undefined;
};

/** The fastest tfjs backend that finished an iteration of a config: what a user had before the native one. */
const fastestTfjs = (c: Config): OurResult | undefined =>
  c.ours.filter((o) => TFJS_BACKENDS.has(o.backend) && o.msPerIter !== undefined).sort((a, b) => a.msPerIter! - b.msPerIter!)[0];

/** Per config: the fastest tfjs backend that ran (all a user had before) against the native backend. */
function beforeAfter(report: BenchReport): Record<string, string>[] {
  return report.configs.flatMap((c) => {
    const before = fastestTfjs(c);
    const after = c.ours.find((o) => o.backend === "native" && o.msPerIter !== undefined);
    if (!after) return [];
    return [
      {
        config: c.name,
        before: before ? `${before.backend}: ${fmtMs(before.msPerIter)} ms/iter (${ratioCell(tokensRatio(before, c))} PyTorch)` : "no tfjs backend finished one iteration",
        after: `native: ${fmtMs(after.msPerIter)} ms/iter (${ratioCell(tokensRatio(after, c))} PyTorch)`,
        speedup: before ? `${fmt(before.msPerIter! / after.msPerIter!, 0)}×` : "–",
        sampling: before ? `${fmt(ourSampleRate(before), 0)} → ${fmt(ourSampleRate(after), 0)} tokens/s (PyTorch ${fmt(pytorchSampleRate(c), 0)})` : `${fmt(ourSampleRate(after), 0)} tokens/s`,
      },
    ];
  });
}

/** Per config: the native backend on the built-in GEMM against the same backend on OpenBLAS. */
function builtinVsOpenblas(report: BenchReport): Record<string, string>[] {
  return report.configs.flatMap((c) => {
    const openblas = c.ours.find((o) => o.backend === "native" && o.description?.includes("OpenBLAS") && o.tokensPerSec !== undefined);
    const builtin = c.ours.find((o) => o.backend === "native-builtin" && o.tokensPerSec !== undefined);
    if (!openblas || !builtin) return [];
    return [
      {
        config: c.name,
        openblas: `${fmtMs(openblas.msPerIter)} ms/iter`,
        builtin: `${fmtMs(builtin.msPerIter)} ms/iter`,
        ratio: `**${(builtin.tokensPerSec! / openblas.tokensPerSec!).toFixed(2)}×**`,
        sgemm: `${fmt(openblas.sgemmGflops, 0)} / ${fmt(builtin.sgemmGflops, 0)}`,
        mfu: `${pct(mfu(openblas.tokensPerSec, c, openblas.sgemmGflops))} / ${pct(mfu(builtin.tokensPerSec, c, builtin.sgemmGflops))}`,
      },
    ];
  });
}

export function renderBenchMarkdown(results: BenchResults): string {
  const torchVersion = results.configs.map((c) => c.torch.raw?.["torch_version"]).find(Boolean);
  const blas = results.configs.map((c) => c.torch.raw?.["blas"]).find(Boolean);
  const rows = results.configs.flatMap((c) =>
    c.ours.map((o) => {
      const t = c.torch.best;
      return {
        config: c.name,
        backend: o.description ?? o.backend,
        ms: o.msPerIter !== undefined ? fmtMs(o.msPerIter) : o.status === "unavailable" ? "not available" : o.status,
        tokens: fmt(o.tokensPerSec, 0),
        mfu: pct(mfu(o.tokensPerSec, c, o.sgemmGflops)),
        rss: fmt(o.peakRssMiB, 0),
        sample: fmt(ourSampleRate(o), 1),
        torch: t ? torchLabel(t) : "–",
        torchMs: t ? fmtMs(t.ms_per_iter) : "–",
        torchTokens: t ? fmt(t.tokens_per_sec, 0) : "–",
        torchMfu: t ? pct(mfu(t.tokens_per_sec, c, t.sgemm_gflops)) : "–",
        ratio: ratioCell(tokensRatio(o, c)),
        note: explainMissing(o, c),
      };
    }),
  );
  const memory = results.configs.map((c) => {
    const o = c.ours.find((x) => x.peakRssMiB !== undefined && x.rssBeforeModelMiB !== undefined);
    const measured = o ? o.peakRssMiB! - o.rssBeforeModelMiB! : undefined;
    return {
      config: c.name,
      backend: o?.backend ?? "–",
      estimate: fmt(c.estimateMiB, c.estimateMiB < 1 ? 2 : 0),
      measured: fmt(measured, 0),
      ratio: measured ? (measured / c.estimateMiB).toFixed(2) : "–",
      note: measured ? explainMemory(c.estimateMiB, measured) : "",
    };
  });
  const torchSettings = results.configs.flatMap((c) =>
    (c.torch.settings ?? []).map((s) => {
      const isBest = s.setting === c.torch.best?.setting && s.style === c.torch.best?.style;
      const bestOfModel = s.style !== undefined && c.torch.bestByStyle?.[s.style]?.setting === s.setting;
      return {
        config: c.name,
        model: torchStyle(s),
        build: s.blas_build ?? "pthread",
        setting: s.setting,
        ms: s.error ? "–" : fmtMs(s.ms_per_iter),
        tokens: s.error ? "–" : fmt(s.tokens_per_sec, 0),
        sample: s.error ? "–" : fmt(torchSampleRate(s), 1),
        gflops: s.error ? "–" : fmt(s.sgemm_gflops, 0),
        mfu: s.error ? "–" : pct(mfu(s.tokens_per_sec, c, s.sgemm_gflops)),
        best: s.error ?? (isBest ? "**fastest**" : bestOfModel ? "fastest of its step" : ""),
      };
    }),
  );
  return template({
    command: results.command,
    date: results.date.slice(0, 10),
    machine: results.machine,
    versions: Object.entries(results.versions).map(([k, v]) => `${k} ${v}`).join(", "),
    torch: torchVersion ? `PyTorch ${String(torchVersion)}` : "PyTorch not measured",
    blas: blas ? JSON.stringify(blas) : "–",
    rows,
    builtin: builtinVsOpenblas(results),
    sampling: samplingRows(results),
    batches: batchRows(results),
    sampleProfiles: sampleProfiles(results),
    protocol: results.sampling,
    flops: results.configs.filter((c) => c.trainFlopsPerToken).map((c) => `${c.name} ${fmt(c.trainFlopsPerToken! / 1e6, 2)} MFLOP`).join(", "),
    beforeAfter: beforeAfter(results),
    torchSettings,
    memory,
    compile: results.compile.perSpec.map((c) => ({ spec: c.spec, ms: fmt(c.ms, 0) })),
    compileTotal: fmt(results.compile.totalMs, 0),
    profile: results.profile,
  });
}

/**
 * Writes docs/bench.md atomically, keeping its data benchmark's section (bench/data-report.ts), its paired
 * rounds' (bench/paired-report.ts) and its GPU kit's (bench/gpu-report.ts); returns its path.
 */
export function writeBenchMarkdown(results: BenchResults): string {
  const md = join(PROJECT_ROOT, "docs/bench.md");
  mkdirSync(join(PROJECT_ROOT, "docs"), { recursive: true });
  const old = existsSync(md) ? readFileSync(md, "utf8") : "";
  const data = dataSectionOf(old);
  const paired = pairedSectionOf(old);
  let rendered = renderBenchMarkdown(results);
  if (data) rendered = withDataSection(rendered, data);
  if (paired) rendered = withPairedSection(rendered, paired);
  writeFileAtomic(md, keepGpuSection(rendered, old));
  return md;
}

const hours = (ms: number): string => (ms / 3.6e6 >= 1 ? `about ${(ms / 3.6e6).toFixed(1)} hours` : `about ${Math.round(ms / 6e4)} minutes`);

/**
 * The README's performance summary from a results file (`file`, its name under bench/results): the
 * native backend against PyTorch per config, the built-in GEMM build, sampling, and what the lecture
 * GPT's full budget would take. So the figures the README quotes are a run's, never typed in.
 */
export function renderReadmeSummary(results: BenchResults, file: string, lectureIters: number): string {
  const rows = results.configs.flatMap((c) => {
    const native = c.ours.find((o) => o.backend === "native" && o.msPerIter !== undefined);
    if (!native) return [];
    const builtin = c.ours.find((o) => o.backend === "native-builtin" && o.msPerIter !== undefined);
    const before = fastestTfjs(c);
    const ms = (x: number): string => (x >= 1000 ? `${fmt(x / 1000, 2)} s/iter` : `${fmtMs(x)} ms/iter`);
    return [
      {
        config: `${c.name} (B${c.batch} T${c.block})`,
        native: ms(native.msPerIter!),
        torch: c.torch.best ? ms(c.torch.best.ms_per_iter) : "–",
        ratio: ratioCell(tokensRatio(native, c)),
        builtin: builtin ? `${ms(builtin.msPerIter!)} (${(builtin.tokensPerSec! / native.tokensPerSec!).toFixed(2)}×)` : "–",
        before: before
          ? `${before.backend}: ${ms(before.msPerIter!)} (${(before.msPerIter! / native.msPerIter!).toFixed(0)}× slower)`
          : c.ours.some((o) => TFJS_BACKENDS.has(o.backend) && o.status !== "unavailable")
            ? "none finished an iteration"
            : "not in this run",
      },
    ];
  });
  const sampling = results.configs.flatMap((c) => {
    const native = c.ours.find((o) => o.backend === "native");
    const cached = native && ourRun(native, true);
    const uncached = native && ourRun(native, false);
    const torch = torchSampling(c)?.sampling;
    if (!cached || !uncached) return [];
    const batches = native ? batchRuns(native) : [];
    const batch = batches.map(({ one, batch: b }) => `${b.batch} ${b.newTokens === cached.newTokens ? "by the protocol" : "within the context"} ${fmt(b.tokensPerSec / one.tokensPerSec, 1)}× one sample's`).join(", ");
    return [
      {
        config: c.name,
        cached: fmt(cached.tokensPerSec, 0),
        uncached: fmt(uncached.tokensPerSec, 0),
        torch: torch ? fmt(torch.tokens_per_sec, 0) : "–",
        ratio: torch ? `${fmt(cached.tokensPerSec / torch.tokens_per_sec, 1)}×` : "–",
        ...(batch ? { batch } : {}),
      },
    ];
  });
  const lecture = results.configs.find((c) => c.spec.endsWith("11-gpt.yaml"));
  const lectureNative = lecture?.ours.find((o) => o.backend === "native" && o.msPerIter !== undefined);
  const p = results.sampling;
  return readmeTemplate({
    file,
    command: results.command,
    date: results.date.slice(0, 10),
    machine: results.machine,
    torch: `PyTorch ${String(results.configs.map((c) => c.torch.raw?.["torch_version"]).find(Boolean) ?? "(not measured)")}`,
    rows,
    sampling,
    protocol: p ? `${p.promptTokens} prompt token${p.promptTokens === 1 ? "" : "s"} and ${p.newTokens} new ones at temperature ${p.temperature}` : "",
    ...(lecture && lectureNative && lecture.torch.best
      ? { lecture: { iters: formatInt(lectureIters), ours: hours(lectureNative.msPerIter! * lectureIters), torch: hours(lecture.torch.best.ms_per_iter * lectureIters) } }
      : {}),
  });
}

const SUMMARY_START = "<!-- bench summary:";
const SUMMARY_END = "<!-- end of bench summary -->";

/** The results file the README's summary names, or undefined when it has none. */
export function readmeSummarySource(readme: string): string | undefined {
  return /<!-- bench summary: written by `babygpt bench` from bench\/results\/(\S+) /.exec(readme)?.[1];
}

/** Replaces the README's summary block with `summary`; refuses a README without one. */
export function replaceReadmeSummary(readme: string, summary: string): string {
  const start = readme.indexOf(SUMMARY_START);
  const end = readme.indexOf(SUMMARY_END);
  if (start < 0 || end < start) throw new UserError(`README.md has no bench summary block (${SUMMARY_START} … ${SUMMARY_END}) to rewrite`);
  return readme.slice(0, start) + summary.trimEnd() + readme.slice(end + SUMMARY_END.length);
}

/** docs/bench.md and the README's summary, both from the results file at `path`; returns what it wrote. */
export function writeBenchDocs(results: BenchResults, path: string): string[] {
  const readmePath = join(PROJECT_ROOT, "README.md");
  const summary = renderReadmeSummary(results, basename(path), lectureIterations());
  writeFileAtomic(readmePath, replaceReadmeSummary(readFileSync(readmePath, "utf8"), summary));
  return [writeBenchMarkdown(results), readmePath];
}

/** The lecture GPT's full training budget, from its spec. */
export function lectureIterations(): number {
  return loadSpec(join(PROJECT_ROOT, "specs/11-gpt.yaml"), { cwd: PROJECT_ROOT }).spec.training.max_iters;
}

/** Reads a results file written by `babygpt bench`, refusing anything else with a clear message. */
export function readBenchResults(path: string): BenchResults {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new UserError(`${path}: cannot read benchmark results: ${(e as Error).message}`);
  }
  const r = parsed as Partial<BenchResults> | null;
  if (!r || typeof r !== "object" || typeof r.command !== "string" || !Array.isArray(r.configs) || typeof r.date !== "string" || !r.compile) {
    throw new UserError(`${path}: not a results file of \`babygpt bench\` (expected command, date, configs and compile)`);
  }
  if (r.quick) throw new UserError(`${path}: a --quick run; docs/bench.md is written from full runs only`);
  return r as BenchResults;
}

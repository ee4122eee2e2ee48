// The benchmark: for the bigram, the baby GPT and the lecture GPT, every backend that loads (the native
// one twice: the default build, on OpenBLAS where it was found, and the build on the built-in GEMM) and
// PyTorch (the spec's generated module, trained with babygpt's step and with nanoGPT's foreach one) on two
// OpenBLAS builds at every thread setting, all in one run on this machine; the fastest PyTorch figure is the ratios' denominator. Each
// measurement runs in a process of its own (bench/child.ts, bench/reference/bench_torch.py), which also
// times a 768x768x768 sgemm on the same threads: MFU is a run's FLOP/s (the IR's count) over that. Both
// sides sample by one protocol (bench/sampling.ts): ours with the KV cache and without, PyTorch without.
// Results go to bench/results/<date>.json and docs/bench.md.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { compileSpec, listSpecs, projectAt } from "../compiler/compile.js";
import { costs, countParams, loadSpec, lowerSpec, trainingBytes } from "../compiler/index.js";
import { writeFileAtomic } from "../util/write-atomic.js";
import { PROJECT_ROOT } from "../runtime/paths.js";
import { versions } from "../runtime/versions.js";
import { BACKENDS } from "./backends.js";
import { writeBenchDocs } from "./report.js";
import type { BenchReport, Observed, OurResult, TorchResult, TorchSetting } from "./results.js";
import { SAMPLING, samplingArgs, type OurSampling, type SampleProfile } from "./sampling.js";
import { median } from "./median.js";

export interface BenchConfig {
  readonly name: string;
  readonly spec: string;
  readonly iters: number;
  readonly warmup: number;
  /** Where a sampled token's time goes, on the native backend (docs/bench.md's section of it). */
  readonly profileSampling?: boolean;
}

/**
 * The configs, each timed over `iters` training steps after `warmup` (both sides alike: PyTorch's workers
 * get the same counts). The bigram's step is a fraction of a millisecond, most of it JavaScript, which V8
 * compiles to its fastest code only after about a thousand steps: its warm-up covers that, so that both
 * sides are timed at the speed a training run has for all but its first second.
 */
export const CONFIGS: readonly BenchConfig[] = [
  { name: "bigram", spec: "specs/01-bigram.yaml", iters: 500, warmup: 1500, profileSampling: true },
  { name: "baby GPT", spec: "specs/12-baby-gpt.yaml", iters: 30, warmup: 5, profileSampling: true },
  { name: "lecture GPT", spec: "specs/11-gpt.yaml", iters: 4, warmup: 1 },
];

/** The build of the native backend each bench name loads. */
const NATIVE_ADDONS: Record<string, string> = { "native-builtin": "build/babygpt_native_builtin.node" };

export interface BenchOptions {
  readonly quick: boolean;
  readonly configs?: readonly string[];
  readonly backends?: readonly string[];
  readonly torch: boolean;
  /** Seconds one (config, backend) measurement may take. */
  readonly budget: number;
  readonly log: (line: string) => void;
}

/** The optional package behind a tfjs backend, whose absence is the usual reason it does not load. */
const PACKAGES: Record<string, string> = { tensorflow: "@tensorflow/tfjs-node", "tensorflow-gpu": "@tensorflow/tfjs-node-gpu" };

/** Runs bench/child.ts for one config and backend, killing it when the budget runs out. */
async function measureOurs(config: BenchConfig, backend: string, options: BenchOptions): Promise<OurResult> {
  const iters = options.quick ? Math.min(config.iters, 5) : config.iters;
  const warmup = options.quick ? 1 : config.warmup;
  const addon = NATIVE_ADDONS[backend];
  if (addon && !existsSync(join(PROJECT_ROOT, addon))) {
    return { backend, status: "unavailable", iters: 0, note: `${addon} does not exist (npm run build:native builds it)` };
  }
  const env = addon ? { ...process.env, BABYGPT_NATIVE_ADDON: addon } : process.env;
  const profile = config.profileSampling && backend === "native" && !options.quick ? ["--profile"] : [];
  const args = ["--import", "tsx", join(PROJECT_ROOT, "bench/child.ts"), "--spec", config.spec, "--backend", addon ? "native" : backend, "--iters", String(iters), "--warmup", String(warmup), ...samplingArgs(SAMPLING), ...profile];
  const began = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    const times: number[] = [];
    let stepsDone = 0;
    let firstStepMs: number | undefined;
    let lastRssMiB: number | undefined;
    let start: Record<string, number> | undefined;
    let adapter: { adapter?: string; software?: boolean } = {};
    let done: Record<string, number> | undefined;
    const sampling: OurSampling[] = [];
    let sampleProfile: SampleProfile | undefined;
    let stderr = "";
    let failure: string | undefined;
    let buffer = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.budget * 1000);
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const rec = JSON.parse(line) as Record<string, unknown>;
        if (rec["type"] === "start") {
          start = rec as Record<string, number>;
          if (typeof rec["adapter"] === "string") adapter = { adapter: rec["adapter"], software: rec["software"] === true };
        }
        if (rec["type"] === "iter") {
          stepsDone++;
          firstStepMs ??= rec["ms"] as number;
          lastRssMiB = rec["rssMiB"] as number;
          if (!rec["warmup"]) times.push(rec["ms"] as number);
        }
        if (rec["type"] === "sample") {
          const n = (key: string): number => Number(rec[key]);
          sampling.push({
            cached: rec["cached"] === true,
            path: rec["path"] === "forward" ? "forward" : "plan",
            batch: n("batch"),
            promptTokens: n("promptTokens"),
            newTokens: n("newTokens"),
            seconds: n("seconds"),
            tokensPerSec: n("tokensPerSec"),
            repeats: n("repeats"),
          });
        }
        if (rec["type"] === "sampleProfile") sampleProfile = rec["profile"] as SampleProfile;
        if (rec["type"] === "done") done = rec as Record<string, number>;
        if (rec["type"] === "error") failure = String(rec["reason"]);
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const pkg = PACKAGES[backend];
      const observed: Observed = {
        seconds: (performance.now() - began) / 1000,
        stepsDone,
        ...(firstStepMs !== undefined ? { firstStepMs } : {}),
        ...(lastRssMiB !== undefined ? { lastRssMiB } : {}),
        exit: timedOut ? `killed at the ${options.budget} s budget` : signal ? `signal ${signal}` : `exit code ${code}`,
        ...(pkg ? { packageDir: { path: `node_modules/${pkg}`, exists: existsSync(join(PROJECT_ROOT, "node_modules", pkg)) } } : {}),
      };
      const description = start ? String((start as Record<string, unknown>)["description"] ?? "") || undefined : undefined;
      const base = { backend, iters: times.length, ...(description ? { description } : {}), ...adapter, ...(sampling.length ? { sampling } : {}), ...(sampleProfile ? { sampleProfile } : {}) };
      const reason = failure ?? (stderr.trim().split("\n").at(-1) || `exit code ${code}`);
      if (!start) {
        const unavailable = /not available|no backend/.test(reason);
        resolve({ ...base, status: timedOut ? "timeout" : unavailable ? "unavailable" : "failed", note: timedOut ? `no result within ${options.budget} s` : reason, observed });
        return;
      }
      const tokens = (start["batch"] ?? 0) * (start["block"] ?? 0);
      if (times.length === 0) {
        resolve({ ...base, status: timedOut ? "timeout" : "failed", note: timedOut ? `not one timed iteration within ${options.budget} s` : reason, rssBeforeModelMiB: start["rssBeforeModelMiB"]!, observed });
        return;
      }
      const ms = median(times);
      resolve({
        ...base,
        status: done ? "ok" : "partial",
        ...(done ? {} : { note: `stopped at the ${options.budget} s budget after ${times.length} timed iterations`, observed }),
        msPerIter: ms,
        tokensPerSec: (tokens * 1000) / ms,
        rssBeforeModelMiB: start["rssBeforeModelMiB"]!,
        ...(done ? { peakRssMiB: done["peakRssMiB"]!, ...(done["sgemmGflops"] ? { sgemmGflops: done["sgemmGflops"] } : {}) } : {}),
      });
    });
  });
}

/** Worker processes bench_torch.py starts per config: two models times six thread settings. */
const TORCH_WORKERS = 12;

function measureTorch(config: BenchConfig, options: BenchOptions): TorchResult {
  const python = "/usr/bin/python3";
  const script = join(PROJECT_ROOT, "bench/reference/bench_torch.py");
  if (!existsSync(python)) return { available: false, note: "/usr/bin/python3 does not exist" };
  const probe = spawnSync(python, ["-c", "import torch"], { encoding: "utf8" });
  if (probe.status !== 0) {
    return { available: false, note: `/usr/bin/python3 cannot import torch (${(probe.stderr || "").trim().split("\n").at(-1)}); bench/reference/setup.sh installs it` };
  }
  // Each worker trains for at most a fifth of one measurement's budget (60 s at most), then samples.
  const perSetting = options.quick ? [] : ["--budget", String(Math.min(60, Math.max(5, Math.round(options.budget / 5))))];
  // --quick (a smoke test): both models, but one thread setting per OpenBLAS build.
  // The same training steps as ours: the config's warm-up and timed counts (--quick: bench_torch's own).
  const steps = options.quick ? [] : ["--iters", String(config.iters), "--warmup", String(config.warmup)];
  const args = [script, join(PROJECT_ROOT, config.spec), ...samplingArgs(SAMPLING), ...steps, ...(options.quick ? ["--quick", "--settings", "1x2", "omp2"] : perSetting)];
  const timeoutS = options.budget * TORCH_WORKERS;
  const out = spawnSync(python, args, { cwd: PROJECT_ROOT, encoding: "utf8", maxBuffer: 64 * 2 ** 20, timeout: timeoutS * 1000 });
  if (out.status !== 0) {
    const why = out.error?.message.includes("ETIMEDOUT") ? `still running after ${timeoutS} s, killed` : `exit status ${out.status}: ${(out.stderr || out.error?.message || "").trim().split("\n").at(-1)}`;
    return { available: false, note: `bench_torch.py ${why}` };
  }
  const raw = JSON.parse(out.stdout) as Record<string, unknown>;
  const settings = (raw["settings"] as TorchSetting[] | undefined) ?? [];
  const best = raw["best"] as TorchSetting | undefined;
  const bestByStyle = raw["best_by_style"] as Record<string, TorchSetting | null> | undefined;
  return { available: true, raw, settings, ...(best ? { best } : {}), ...(bestByStyle ? { bestByStyle } : {}) };
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const configs = CONFIGS.filter((c) => !options.configs || options.configs.some((n) => c.name.includes(n) || c.spec.includes(n)));
  const backends = options.backends ?? BACKENDS;
  const results: BenchReport["configs"][number][] = [];
  for (const config of configs) {
    const loaded = loadSpec(config.spec, { cwd: PROJECT_ROOT });
    const ir = lowerSpec(loaded);
    const ours: OurResult[] = [];
    for (const backend of backends) {
      const primary = ours.find((o) => o.backend === "native");
      if (backend === "native-builtin" && primary?.description?.includes("built-in GEMM")) {
        ours.push({ backend, status: "unavailable", iters: 0, note: `not measured again: the default build already runs on the built-in GEMM (${primary.description})` });
        continue;
      }
      options.log(`${config.name}: ${backend}…`);
      const r = await measureOurs(config, backend, options);
      options.log(`${config.name}: ${backend}: ${r.msPerIter !== undefined ? `${r.msPerIter.toFixed(1)} ms/iter` : r.status} ${r.note ?? ""}`);
      ours.push(r);
    }
    let torch: TorchResult = { available: false, note: "skipped (--no-torch)" };
    if (options.torch) {
      options.log(`${config.name}: PyTorch…`);
      torch = measureTorch(config, options);
      options.log(`${config.name}: PyTorch: ${torch.best ? `${torch.best.ms_per_iter.toFixed(1)} ms/iter (${torch.best.style ?? "lecture"} step, ${torch.best.setting})` : torch.note}`);
    }
    results.push({
      name: config.name,
      spec: config.spec,
      batch: loaded.spec.training.batch_size,
      block: loaded.spec.model.block_size,
      params: countParams(ir, 65),
      estimateMiB: trainingBytes(ir, 65, loaded.spec.training.batch_size) / 2 ** 20,
      trainFlopsPerToken: 3 * costs(ir, { vocab: 65, T: loaded.spec.model.block_size }).flopsPerToken,
      ours,
      torch,
    });
  }

  // Compile time: the whole ladder, spec by spec, in this process (after one warm-up compile).
  const project = projectAt(PROJECT_ROOT);
  const specs = listSpecs(project);
  compileSpec(project, specs[0]!);
  const perSpec = specs.map((spec) => {
    const t0 = performance.now();
    compileSpec(project, spec);
    return { spec, ms: performance.now() - t0 };
  });

  let profile: string | undefined;
  if (!options.quick) {
    options.log("profiling one baby GPT step per backend…");
    const p = spawnSync(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "bench/profile-step.ts"), "--backends", backends.filter((b) => b === "native" || b === "wasm" || b === "cpu").join(","), "--iters", "3", "--top", "15"], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
      timeout: options.budget * 3 * 1000,
    });
    profile = p.status === 0 ? p.stdout.trim() : undefined;
  }

  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    machine: { cpu: cpu[0]?.model ?? "unknown", cores: cpu.length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
    versions: versions(),
    quick: options.quick,
    sampling: SAMPLING,
    configs: results,
    compile: { perSpec, totalMs: perSpec.reduce((a, b) => a + b.ms, 0) },
    ...(profile ? { profile } : {}),
  };
}

/**
 * Writes bench/results/<date>.json and, when `docs` says this is the full default run (every config,
 * backend and PyTorch, the default budget, into bench/results), regenerates docs/bench.md and the README's
 * summary from it; a partial run writes its results file alone.
 */
export function writeBenchReport(report: BenchReport, command: string, resultsDir = join(PROJECT_ROOT, "bench/results"), docs = true): { json: string; markdown?: string } {
  mkdirSync(resultsDir, { recursive: true });
  const json = join(resultsDir, `${report.date.slice(0, 10)}${report.quick ? "-quick" : ""}.json`);
  writeFileAtomic(json, `${JSON.stringify({ command, ...report }, null, 2)}\n`);
  if (report.quick || !docs) return { json };
  return { json, markdown: writeBenchDocs({ command, ...report }, json).join(", ") };
}

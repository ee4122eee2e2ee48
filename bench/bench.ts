// The benchmark: for the bigram, the baby GPT and the lecture GPT, every backend that loads and the
// PyTorch reference at its best thread setting, all in one run on this machine. Each measurement runs in
// a process of its own (bench/child.ts, bench/reference/bench_torch.py). Results go to
// bench/results/<date>.json and docs/bench.md.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { compileSpec, listSpecs, projectAt } from "../compiler/compile.js";
import { countParams, trainingBytes } from "../compiler/ir/analysis.js";
import { lowerSpec } from "../compiler/ir/lower.js";
import { loadSpec } from "../compiler/spec/load.js";
import { writeFileAtomic } from "../compiler/write-atomic.js";
import { PROJECT_ROOT } from "../runtime/paths.js";
import { versions } from "../runtime/versions.js";
import { writeBenchMarkdown } from "./report.js";

export interface BenchConfig {
  readonly name: string;
  readonly spec: string;
  readonly iters: number;
  readonly warmup: number;
}

export const CONFIGS: readonly BenchConfig[] = [
  { name: "bigram", spec: "specs/01-bigram.yaml", iters: 200, warmup: 10 },
  { name: "baby GPT", spec: "specs/12-baby-gpt.yaml", iters: 30, warmup: 3 },
  { name: "lecture GPT", spec: "specs/11-gpt.yaml", iters: 4, warmup: 1 },
];

export const BACKENDS = ["native", "wasm", "cpu", "tensorflow", "tensorflow-gpu"] as const;

export interface OurResult {
  readonly backend: string;
  readonly status: "ok" | "partial" | "timeout" | "unavailable" | "failed";
  readonly note?: string;
  readonly iters: number;
  readonly msPerIter?: number;
  readonly tokensPerSec?: number;
  readonly peakRssMiB?: number;
  readonly rssBeforeModelMiB?: number;
  readonly sampleTokensPerSec?: number;
}

interface TorchSetting {
  readonly setting: string;
  readonly ms_per_iter: number;
  readonly tokens_per_sec: number;
  readonly sample_tokens_per_sec?: number;
  readonly peak_rss_mib?: number;
  readonly sgemm_gflops?: number;
}

export interface TorchResult {
  readonly available: boolean;
  readonly note?: string;
  readonly raw?: Record<string, unknown>;
  readonly best?: TorchSetting;
  readonly settings?: readonly TorchSetting[];
}

export interface BenchOptions {
  readonly quick: boolean;
  readonly configs?: readonly string[];
  readonly backends?: readonly string[];
  readonly torch: boolean;
  /** Seconds one (config, backend) measurement may take. */
  readonly budget: number;
  readonly log: (line: string) => void;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Runs bench/child.ts for one config and backend, killing it when the budget runs out. */
async function measureOurs(config: BenchConfig, backend: string, options: BenchOptions): Promise<OurResult> {
  const iters = options.quick ? Math.min(config.iters, 5) : config.iters;
  const warmup = options.quick ? 1 : config.warmup;
  const args = ["--import", "tsx", join(PROJECT_ROOT, "bench/child.ts"), "--spec", config.spec, "--backend", backend, "--iters", String(iters), "--warmup", String(warmup), "--sample-tokens", options.quick ? "16" : "64"];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const times: number[] = [];
    let start: Record<string, number> | undefined;
    let done: Record<string, number> | undefined;
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
        if (rec["type"] === "start") start = rec as Record<string, number>;
        if (rec["type"] === "iter" && !rec["warmup"]) times.push(rec["ms"] as number);
        if (rec["type"] === "done") done = rec as Record<string, number>;
        if (rec["type"] === "error") failure = String(rec["reason"]);
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => {
      clearTimeout(timer);
      const base = { backend, iters: times.length };
      const reason = failure ?? (stderr.trim().split("\n").at(-1) || `exit code ${code}`);
      if (!start) {
        const unavailable = /not available|no backend/.test(reason);
        resolve({ ...base, status: timedOut ? "timeout" : unavailable ? "unavailable" : "failed", note: timedOut ? `no result within ${options.budget} s` : reason });
        return;
      }
      const tokens = (start["batch"] ?? 0) * (start["block"] ?? 0);
      if (times.length === 0) {
        resolve({ ...base, status: timedOut ? "timeout" : "failed", note: timedOut ? `not one timed iteration within ${options.budget} s` : reason });
        return;
      }
      const ms = median(times);
      resolve({
        ...base,
        status: done ? "ok" : "partial",
        ...(done ? {} : { note: `stopped at the ${options.budget} s budget after ${times.length} timed iterations` }),
        msPerIter: ms,
        tokensPerSec: (tokens * 1000) / ms,
        rssBeforeModelMiB: start["rssBeforeModelMiB"]!,
        ...(done ? { peakRssMiB: done["peakRssMiB"]!, sampleTokensPerSec: done["sampleTokensPerSec"]! } : {}),
      });
    });
  });
}

function measureTorch(config: BenchConfig, options: BenchOptions): TorchResult {
  const python = "/usr/bin/python3";
  const script = join(PROJECT_ROOT, "bench/reference/bench_torch.py");
  if (!existsSync(python) || !existsSync(script)) return { available: false, note: "no /usr/bin/python3 or no bench_torch.py" };
  const probe = spawnSync(python, ["-c", "import torch"], { encoding: "utf8" });
  if (probe.status !== 0) return { available: false, note: "PyTorch is not installed (run bench/reference/setup.sh)" };
  const args = [script, join(PROJECT_ROOT, config.spec), ...(options.quick ? ["--quick"] : [])];
  const out = spawnSync(python, args, { cwd: PROJECT_ROOT, encoding: "utf8", maxBuffer: 64 * 2 ** 20, timeout: options.budget * 4 * 1000 });
  if (out.status !== 0) return { available: false, note: `bench_torch.py failed: ${(out.stderr || out.error?.message || "").trim().split("\n").at(-1)}` };
  const raw = JSON.parse(out.stdout) as Record<string, unknown>;
  const settings = (raw["settings"] as TorchSetting[] | undefined) ?? [];
  const best = raw["best"] as TorchSetting | undefined;
  return { available: true, raw, settings, ...(best ? { best } : {}) };
}

export interface BenchReport {
  readonly date: string;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly memoryGiB: number };
  readonly versions: Record<string, string>;
  readonly quick: boolean;
  readonly configs: readonly {
    readonly name: string;
    readonly spec: string;
    readonly batch: number;
    readonly block: number;
    readonly params: number;
    readonly estimateMiB: number;
    readonly ours: readonly OurResult[];
    readonly torch: TorchResult;
  }[];
  readonly compile: { readonly perSpec: readonly { readonly spec: string; readonly ms: number }[]; readonly totalMs: number };
  readonly profile?: string;
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
      options.log(`${config.name}: ${backend}…`);
      const r = await measureOurs(config, backend, options);
      options.log(`${config.name}: ${backend}: ${r.msPerIter !== undefined ? `${r.msPerIter.toFixed(1)} ms/iter` : r.status} ${r.note ?? ""}`);
      ours.push(r);
    }
    let torch: TorchResult = { available: false, note: "skipped (--no-torch)" };
    if (options.torch) {
      options.log(`${config.name}: PyTorch…`);
      torch = measureTorch(config, options);
      options.log(`${config.name}: PyTorch: ${torch.best ? `${torch.best.ms_per_iter.toFixed(1)} ms/iter (${torch.best.setting})` : torch.note}`);
    }
    results.push({
      name: config.name,
      spec: config.spec,
      batch: loaded.spec.training.batch_size,
      block: loaded.spec.model.block_size,
      params: countParams(ir, 65),
      estimateMiB: trainingBytes(ir, 65, loaded.spec.training.batch_size) / 2 ** 20,
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
    configs: results,
    compile: { perSpec, totalMs: perSpec.reduce((a, b) => a + b.ms, 0) },
    ...(profile ? { profile } : {}),
  };
}

/** Writes bench/results/<date>.json and, for full runs, regenerates docs/bench.md from it. */
export function writeBenchReport(report: BenchReport, command: string, resultsDir = join(PROJECT_ROOT, "bench/results")): { json: string; markdown?: string } {
  mkdirSync(resultsDir, { recursive: true });
  const json = join(resultsDir, `${report.date.slice(0, 10)}${report.quick ? "-quick" : ""}.json`);
  writeFileAtomic(json, `${JSON.stringify({ command, ...report }, null, 2)}\n`);
  if (report.quick) return { json };
  return { json, markdown: writeBenchMarkdown({ command, ...report }) };
}

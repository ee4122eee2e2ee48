// The two sides of a paired sampling round, each a process of its own: ours (bench/child.ts with no
// training steps: the protocol's generations, bench/sample-runs.ts) and PyTorch's (bench_torch.py
// --sample-only, a worker per thread setting asked for). bench/paired-sampling.ts and
// bench/batch-ceiling.ts alternate them round by round (pairedRound, which paired-step.ts shares).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../runtime/paths.js";
import type { OurSampling } from "./sampling.js";

/** Our generations by the protocol: bench/child.ts, no training steps. */
export function ourSide(spec: string, backend: string): OurSampling[] {
  const args = ["--import", "tsx", join(PROJECT_ROOT, "bench/child.ts"), "--spec", spec, "--backend", backend, "--iters", "0", "--warmup", "0", "--no-sgemm"];
  const r = spawnSync(process.execPath, args, { cwd: PROJECT_ROOT, encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`bench/child.ts: ${(r.stderr || r.stdout).trim().split("\n").at(-1)}`);
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string } & OurSampling)
    .filter((e) => e.type === "sample")
    .map(({ type: _type, ...s }) => s);
}

/** PyTorch's generate per thread setting (tokens/s of every sample): bench_torch.py --sample-only, `batch` rows. */
export function torchSide(spec: string, settings: readonly string[], batch = 1): { setting: string; tokensPerSec: number }[] {
  const args = [join(PROJECT_ROOT, "bench/reference/bench_torch.py"), join(PROJECT_ROOT, spec), "--sample-only", "--sample-batch", String(batch), "--styles", "babygpt", "--settings", ...settings];
  const r = spawnSync("/usr/bin/python3", args, { cwd: PROJECT_ROOT, encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`bench_torch.py: ${(r.stderr || "").trim().split("\n").at(-1)}`);
  const raw = JSON.parse(r.stdout) as { settings: { setting: string; sampling?: { tokens_per_sec: number }; error?: string }[] };
  const ok = raw.settings.filter((s) => !s.error && s.sampling);
  if (ok.length === 0) throw new Error(`bench_torch.py: no setting sampled (${raw.settings.map((s) => s.error).join("; ")})`);
  return ok.map((s) => ({ setting: s.setting, tokensPerSec: s.sampling!.tokens_per_sec }));
}

/** Round i's two sides, one after the other: ours first in even rounds, PyTorch's first in odd ones. */
export function pairedRound<O, T>(i: number, ours: () => O, torch: () => T): { ours: O; torch: T } {
  if (i % 2 === 0) {
    const o = ours();
    return { ours: o, torch: torch() };
  }
  const t = torch();
  return { ours: ours(), torch: t };
}

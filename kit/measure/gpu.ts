// The NVIDIA GPUs of this machine as nvidia-smi reports them (name, driver, memory, compute capability).
// Drivers before 510 do not know the compute_cap field; they are asked again without it.
import { spawnSync } from "node:child_process";
import type { GpuInfo } from "../results.js";

const FIELDS = ["name", "driver_version", "memory.total", "compute_cap"];

function query(fields: readonly string[]): { lines?: string[]; why?: string } {
  const r = spawnSync("nvidia-smi", [`--query-gpu=${fields.join(",")}`, "--format=csv,noheader,nounits"], { encoding: "utf8", timeout: 20_000 });
  if (r.error) return { why: (r.error as NodeJS.ErrnoException).code === "ENOENT" ? "nvidia-smi is not on PATH (no NVIDIA driver here)" : `nvidia-smi did not run: ${r.error.message}` };
  if (r.status !== 0) return { why: `nvidia-smi failed: ${(r.stdout + r.stderr).trim().split("\n")[0] ?? `exit code ${r.status}`}` };
  return { lines: r.stdout.trim().split("\n").filter(Boolean) };
}

export function nvidiaGpus(): GpuInfo {
  const began = performance.now();
  let r = query(FIELDS);
  const withCap = r.lines !== undefined;
  if (!withCap && !r.why?.startsWith("nvidia-smi is not")) r = query(FIELDS.slice(0, 3));
  const seconds = (performance.now() - began) / 1000;
  if (!r.lines) return { status: "failed", note: r.why!, seconds, gpus: [] };
  const gpus = r.lines.map((l) => {
    const [name = "", driver = "", memory = "", cap] = l.split(",").map((s) => s.trim());
    return { name, driver, memoryMiB: Number(memory), ...(withCap && cap ? { computeCapability: cap } : {}) };
  });
  return gpus.length ? { status: "ok", seconds, gpus } : { status: "failed", note: "nvidia-smi lists no GPU", seconds, gpus };
}

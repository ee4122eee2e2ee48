// Finding PyTorch: the Python to run, whether it imports torch, what devices it sees, and the torchrun
// that belongs to it. Every way this can fail is one line saying what is missing and how to get it,
// before anything is written.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { UserError } from "../errors.js";

export type DeviceChoice = "cpu" | "cuda" | "auto";
export const DEVICES: readonly DeviceChoice[] = ["cpu", "cuda", "auto"];

export interface TorchInstall {
  /** The interpreter (BABYGPT_PYTHON, else /usr/bin/python3, else python3 on PATH). */
  readonly python: string;
  /** How to start torchrun: the torchrun script beside that interpreter, else `python -m torch.distributed.run`. */
  readonly torchrun: readonly string[];
  readonly torch: string;
  readonly cuda: { readonly available: boolean; readonly devices: readonly { readonly name: string; readonly memory: number }[] };
  readonly gloo: boolean;
  readonly nccl: boolean;
  /** The BLAS torch was built against (BLAS_INFO: mkl for PyPI wheels, generic or open for Debian's OpenBLAS). */
  readonly blas: string;
}

/** What the probe prints, as JSON on one line. */
const PROBE = `
import json, torch, torch.distributed as dist
cuda = torch.cuda.is_available()
devices = [{"name": torch.cuda.get_device_name(i), "memory": torch.cuda.get_device_properties(i).total_memory} for i in range(torch.cuda.device_count())] if cuda else []
blas = next((w.split("=", 1)[1] for w in torch.__config__.show().replace(",", " ").split() if w.startswith("BLAS_INFO=")), "unknown")
print(json.dumps({"torch": torch.__version__, "cuda": {"available": cuda, "devices": devices}, "blas": blas,
  "gloo": dist.is_available() and dist.is_gloo_available(), "nccl": dist.is_available() and dist.is_nccl_available()}))
`;

const INSTALL_HINT = "install PyTorch for it (Debian: apt-get install python3-torch python3-numpy; elsewhere: pip install torch numpy), or set BABYGPT_PYTHON to a Python that has it";

function pythonCandidates(): string[] {
  const given = process.env["BABYGPT_PYTHON"];
  if (given) return [given];
  return ["/usr/bin/python3", "python3"];
}

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly missing: boolean;
}

function run(file: string, args: readonly string[], signal?: AbortSignal): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: "utf8", timeout: 120_000, ...(signal ? { signal } : {}) }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
      resolve({ code, stdout, stderr: stderr || (error && code === null ? error.message : ""), missing: error?.code === "ENOENT" });
    });
  });
}

/** The probe's JSON line, or undefined when the output is not one (a program that is not Python). */
function probeAnswer(stdout: string): Omit<TorchInstall, "python" | "torchrun"> | undefined {
  try {
    const info = JSON.parse(stdout.trim().split("\n").pop() ?? "") as Partial<Omit<TorchInstall, "python" | "torchrun">> | null;
    if (info === null || typeof info !== "object" || typeof info.torch !== "string" || typeof info.cuda !== "object" || info.cuda === null || !Array.isArray(info.cuda.devices)) return undefined;
    return info as Omit<TorchInstall, "python" | "torchrun">;
  } catch {
    return undefined;
  }
}

/**
 * Probes the Python and torch the torch engine will use (importing torch takes seconds, so callers start
 * this first and await it when they need it, or abort it when they give up first); rejects with a
 * UserError saying what is missing.
 */
export async function probeTorch(signal?: AbortSignal, who = "the torch engine"): Promise<TorchInstall> {
  const tried: string[] = [];
  for (const python of pythonCandidates()) {
    const out = await run(python, ["-c", PROBE], signal);
    if (out.missing) {
      tried.push(`${python}: not found`);
      continue;
    }
    if (out.code !== 0) {
      const last = out.stderr.trim().split("\n").pop() ?? "";
      tried.push(`${python}: ${/No module named '?(torch|numpy)'?/.test(last) ? `cannot import ${/numpy/.test(last) ? "numpy" : "torch"}` : last}`);
      continue;
    }
    const info = probeAnswer(out.stdout);
    if (info === undefined) {
      // it ran and said nothing a Python with torch says (BABYGPT_PYTHON=/bin/true, a wrapper that prints something else)
      tried.push(`${python}: ran, but did not answer as a Python with torch would (it printed ${out.stdout.trim() === "" ? "nothing" : JSON.stringify(out.stdout.trim().split("\n").pop()!.slice(0, 60))})`);
      continue;
    }
    const beside = join(dirname(python), "torchrun");
    const torchrun = python.includes("/") && existsSync(beside) ? [beside] : [python, "-m", "torch.distributed.run"];
    return { python, torchrun, ...info };
  }
  const none = tried.every((t) => t.endsWith("not found"));
  throw new UserError(`${who} needs ${none ? "Python 3" : "PyTorch"} (${tried.join("; ")}); ${none ? "install Python 3 and PyTorch, or set BABYGPT_PYTHON" : INSTALL_HINT}`);
}

/** The device a run uses: cuda when asked (and refused without it), cpu when asked, else whatever there is. */
export function resolveDevice(torch: TorchInstall, choice: DeviceChoice, nproc: number): "cpu" | "cuda" {
  if (choice === "cpu") return "cpu";
  const gpus = torch.cuda.devices.length;
  if (choice === "auto") return torch.cuda.available && gpus >= nproc ? "cuda" : "cpu";
  if (!torch.cuda.available) {
    throw new UserError(`--device cuda: torch ${torch.torch} under ${torch.python} sees no CUDA GPU (a CPU-only build, no NVIDIA driver, or CUDA_VISIBLE_DEVICES empty); use --device cpu`);
  }
  if (gpus < nproc) throw new UserError(`--nproc ${nproc} with --device cuda needs ${nproc} GPUs on this machine; torch sees ${gpus}`);
  if (!torch.nccl && nproc > 1) throw new UserError(`torch ${torch.torch} has no NCCL, which DDP across GPUs needs`);
  return "cuda";
}

/**
 * Threads for each process on a CPU: its share of the cores, given to whichever pool does the matrix work.
 * MKL builds thread through OpenMP (torch's intra-op threads); Debian's torch calls OpenBLAS, whose own
 * pthreads do it best with one intra-op thread (bench/reference/bench_torch.py measured OMP 1 × OpenBLAS 2
 * fastest of the four settings on two cores; two pools of two threads each oversubscribe them). A setting
 * already in the environment wins.
 */
export function cpuThreads(torch: TorchInstall, cores: number, nproc: number): { OMP_NUM_THREADS: string; OPENBLAS_NUM_THREADS: string } {
  const share = String(Math.max(1, Math.floor(cores / nproc)));
  const mkl = torch.blas.toLowerCase().includes("mkl");
  return {
    OMP_NUM_THREADS: process.env["OMP_NUM_THREADS"] ?? (mkl ? share : "1"),
    OPENBLAS_NUM_THREADS: process.env["OPENBLAS_NUM_THREADS"] ?? (mkl ? "1" : share),
  };
}

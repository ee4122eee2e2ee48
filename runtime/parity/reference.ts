// PyTorch's side of the parity check: runtime/torch/parity.py in a process of its own, on the files
// check.ts writes (the resolved spec, the PyTorch module, babygpt's initial weights, the batch).
import { spawn } from "node:child_process";
import { join } from "node:path";
import type { OptimizerSpec } from "../../compiler/index.js";
import { PROJECT_ROOT } from "../paths.js";

export const PARITY_PY = join(PROJECT_ROOT, "runtime/torch/parity.py");

export interface ReferenceFiles {
  readonly spec: string;
  readonly model: string;
  readonly weights: string;
  readonly batch: string;
  readonly out: string;
}

export interface ReferenceOptions {
  readonly python: string;
  readonly steps: number;
  readonly gradClip: number;
  readonly optimizers: readonly OptimizerSpec[];
  /** torch's threads (and OpenMP's and OpenBLAS's); unset: torch's own choice. */
  readonly threads?: number;
}

/** Runs parity.py; resolves to the output file, or rejects with its exit code and the end of its stderr. */
export function runReference(files: ReferenceFiles, options: ReferenceOptions): Promise<string> {
  const args = [
    PARITY_PY,
    ...["--spec", files.spec, "--model", files.model, "--weights", files.weights, "--batch", files.batch, "--out", files.out],
    ...["--steps", String(options.steps), "--grad-clip", String(options.gradClip)],
    ...(options.threads ? ["--threads", String(options.threads)] : []),
    ...options.optimizers.flatMap((o) => ["--optimizer", JSON.stringify(o)]),
  ];
  const threads = options.threads ? { OMP_NUM_THREADS: String(options.threads), OPENBLAS_NUM_THREADS: String(options.threads) } : {};
  return new Promise((resolve, reject) => {
    const child = spawn(options.python, args, { env: { ...process.env, ...threads }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(files.out) : reject(new ReferenceFailed(code, stderr))));
  });
}

/** parity.py failed: its exit code and its stderr (a traceback, or a SystemExit's one line). */
export class ReferenceFailed extends Error {
  constructor(
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`parity.py exited with ${code}:\n${stderr}`);
  }

  /** The last line of its stderr: the exception, or the reason it gave. */
  get lastLine(): string {
    return this.stderr.trim().split("\n").pop() ?? "";
  }
}

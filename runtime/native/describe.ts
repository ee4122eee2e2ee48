// How the native backend names itself in a run's first line: what runs its matrix products and on how
// many threads, e.g. "native (OpenBLAS 0.3.21, 2 threads)" or "native (built-in GEMM, AVX2, 2 threads)".
import { loadAddon } from "./addon.js";

export function describeNativeBackend(): string {
  const addon = loadAddon();
  const threads = addon.setThreads(0);
  return `native (${addon.blasName()}, ${threads} thread${threads === 1 ? "" : "s"})`;
}

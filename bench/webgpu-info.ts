// The WebGPU adapter this process gets, as bench/gpu.sh prints it: its info (and whether it is a software
// one), its features and its limits. Exits 1 with one line where there is no adapter.
//
//   node --import tsx bench/webgpu-info.ts
import { openAdapter } from "../runtime/webgpu/adapter.js";

try {
  const { info, features, limits } = await openAdapter();
  console.log(`adapter: ${info.description || info.device} (vendor ${info.vendor || "?"}, architecture ${info.architecture || "?"}, device ${info.device || "?"})`);
  console.log(info.software ? `software: ${info.software}` : "software: no (a GPU)");
  console.log(`features: ${features.join(" ") || "none"}`);
  console.log("limits:");
  for (const [name, value] of Object.entries(limits).sort(([a], [b]) => a.localeCompare(b))) console.log(`  ${name} ${value}`);
  delete (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;
} catch (e) {
  console.error(`no WebGPU adapter: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
  process.exitCode = 1;
}

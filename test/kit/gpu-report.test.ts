// The GPU kit's results in docs/bench.md and the README: rendered from a committed results file, never
// typed in (the README's block and the docs' section must be what the templates make of the file they
// name, or say that no GPU has run the kit yet); the tables carry the figures of the file, a software
// adapter is called one, and every part without a figure says why.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gpuSource, keepGpuSection, readKitResults, renderGpuSection, renderReadmeGpu, replaceGpuSection, replaceReadmeGpu, RESULTS_DIR, withoutGpuSection } from "../../bench/gpu-report.js";
import { KIT_RESULTS_KIND, type KitResults } from "../../kit/results.js";
import { UserError } from "../../runtime/errors.js";
import { PROJECT_ROOT, tempFiles } from "../helpers/project.js";

/** Results as a GPU machine would write them: both models on both engines, kernels, the full run. */
function gpuResults(overrides: Partial<KitResults> = {}): KitResults {
  const steps = (ms: number, batch: number, block: number) => ({ status: "ok" as const, msPerStep: ms, tokensPerSec: (batch * block) / (ms / 1000), timedSteps: 20, warmupSteps: 3 });
  return {
    kind: KIT_RESULTS_KIND,
    version: 1,
    command: "./run.sh --out gpu-results",
    date: "2027-01-05T10:00:00.000Z",
    budgetSeconds: 480,
    seconds: 431.2,
    kit: { babygpt: "0.1.0", commit: "abc123def456", built: "2027-01-04T09:00:00.000Z", node: "v20.20.2", tfjs: "4.22.0", dawn: "webgpu 0.6.2 (dawn.node for linux-x64)", vulkanLoader: "libvulkan 1.3.239" },
    host: { hostname: "gpu", os: "Linux 5.15.0", cpu: "AMD EPYC 9654", cores: 26, memoryGiB: 221.4, glibc: "2.35", missing: "", vulkanDriver: "/usr/share/vulkan/icd.d/nvidia_icd.json", libstdcxx: "the host's" },
    corpus: { path: "/kit/data/tinyshakespeare.txt", sha256: "86c4" },
    gpu: { status: "ok", gpus: [{ name: "NVIDIA H100 80GB HBM3", driver: "550.54.15", memoryMiB: 81559, computeCapability: "9.0" }] },
    adapter: { status: "ok", vendor: "nvidia", architecture: "hopper", device: "", description: "NVIDIA H100 80GB HBM3", software: null, features: ["shader-f16", "timestamp-query"], limits: { maxBufferSize: 2 ** 32 - 1, maxStorageBufferBindingSize: 2 ** 31 } },
    torch: { status: "ok", python: "/usr/bin/python3", version: "2.3.1", cuda: true, devices: ["NVIDIA H100 80GB HBM3"] },
    models: [
      { name: "baby GPT", spec: "specs/12-baby-gpt.yaml", batch: 12, block: 64, webgpu: steps(20, 12, 64), torch: { ...steps(5, 12, 64), device: "cuda:0 NVIDIA H100 80GB HBM3", torch: "2.3.1", cuda: "12.1", precision: "bf16 autocast (TF32 matmuls)", sdpa: true }, webgpuOverTorch: 0.25 },
      { name: "lecture GPT", spec: "specs/11-gpt.yaml", batch: 64, block: 256, webgpu: { status: "timeout", note: "no timed step within 120 s" }, torch: { ...steps(31.5, 64, 256), device: "cuda:0 NVIDIA H100 80GB HBM3", torch: "2.3.1", precision: "bf16 autocast (TF32 matmuls)", sdpa: true } },
    ],
    kernels: { status: "ok", rows: [{ op: "layer norm forward", kernelMs: 0.05, compositeMs: 0.4, kernelDispatches: 1, compositeDispatches: 12, compositeAgrees: true }], flags: [{ batchSize: 15, cpuForward: true, stepMs: 12.25 }] },
    full: { status: "ok", spec: "specs/11-gpt.yaml", iterations: 5000, of: 5000, exactValLoss: 1.4789, valTokens: 111360, minutes: 3.9, device: "cuda:0 NVIDIA H100 80GB HBM3", precision: "bf16 autocast (TF32 matmuls)" },
    ...overrides,
  };
}

describe("the committed GPU figures", () => {
  it("the README's GPU block is what the template makes of the results file it names, or says no GPU ran the kit", () => {
    const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
    const file = gpuSource(readme);
    const expected = file === undefined ? renderReadmeGpu() : renderReadmeGpu({ results: readKitResults(join(RESULTS_DIR, file)), file });
    expect(replaceReadmeGpu(readme, expected)).toBe(readme);
    if (file === undefined) expect(readme).toContain("No GPU has run the kit yet");
  });

  it("docs/bench.md's GPU section, where it has one, is what the template makes of the file it names", () => {
    const md = readFileSync(join(PROJECT_ROOT, "docs/bench.md"), "utf8");
    const file = gpuSource(md);
    if (file === undefined) expect(withoutGpuSection(md)).toBe(md);
    else expect(replaceGpuSection(md, renderGpuSection(readKitResults(join(RESULTS_DIR, file)), file))).toBe(md);
  });
});

describe("rendering the kit's results", () => {
  it("puts each model's figures and the ratio in the table, and the full run's exact loss in words", () => {
    const section = renderGpuSection(gpuResults(), "gpu-kit-2027-01-05-100000.json");
    expect(section).toMatch(/^<!-- gpu kit: written by `babygpt bench --render-gpu` from bench\/results\/gpu-kit-2027-01-05-100000\.json /);
    expect(section).toContain("NVIDIA H100 80GB HBM3 (driver 550.54.15, 81,559 MiB, compute 9.0)");
    expect(section).toContain("| baby GPT | 12 × 64 | 20.0 | 38,400 | 5.00 | 153,600 | **0.25×** |");
    expect(section).toContain("| lecture GPT | 64 × 256 | – (timeout: no timed step within 120 s) | – | 31.5 | 520,127 | – |");
    expect(section).toContain("| layer norm forward | 0.050 | 0.400 | 8.00× | 1 / 12 |");
    expect(section).toContain("| 15 | true | 12.3 |");
    expect(section).toContain("exact validation loss **1.4789** over 111,360 tokens");
    expect(section).toContain("bf16 autocast (TF32 matmuls), attention through F.scaled_dot_product_attention, torch 2.3.1, CUDA 12.1");
    expect(section).toContain("- lecture GPT on webgpu: timeout — no timed step within 120 s");
    expect(section).not.toMatch(/software adapter/i);
    const readme = renderReadmeGpu({ results: gpuResults(), file: "gpu-kit-2027-01-05-100000.json" });
    expect(readme).toContain("| baby GPT (12 × 64) | 20.0 | 5.00 | **0.25×** |");
    expect(gpuSource(readme)).toBe("gpu-kit-2027-01-05-100000.json");
  });

  it("calls a software adapter one, and says why the torch parts and the full run did not run", () => {
    const r = gpuResults({
      gpu: { status: "failed", note: "nvidia-smi is not on PATH (no NVIDIA driver here)", gpus: [] },
      adapter: { status: "ok", vendor: "mesa", architecture: "software", description: "llvmpipe", software: "llvmpipe is a software adapter" },
      torch: { status: "skipped", note: "torch 1.13 under /usr/bin/python3 sees no CUDA GPU" },
      full: { status: "skipped", spec: "specs/11-gpt.yaml", note: "torch 1.13 under /usr/bin/python3 sees no CUDA GPU" },
    });
    const section = renderGpuSection(r, "x.json");
    expect(section).toContain("**A software adapter: the webgpu figures below are WebGPU\nemulated on the CPU, not a GPU's.**");
    expect(section).toContain("a machine without an NVIDIA GPU (nvidia-smi is not on PATH (no NVIDIA driver here))");
    expect(section).toContain("The torch engine's whole lecture-GPT training did not run: torch 1.13 under /usr/bin/python3 sees no CUDA GPU.");
    expect(renderReadmeGpu({ results: r, file: "x.json" })).toContain("with a **software** WebGPU adapter (llvmpipe (vendor mesa, architecture software))");
  });

  it("keeps the GPU section when the main benchmark rewrites docs/bench.md, and replaces it in place", () => {
    const fresh = "# Benchmark\n\ntables\n";
    const section = renderGpuSection(gpuResults(), "a.json");
    const withSection = replaceGpuSection(fresh, section);
    expect(withSection.startsWith(fresh.trimEnd())).toBe(true);
    expect(keepGpuSection("# Benchmark\n\nnew tables\n", withSection)).toBe(replaceGpuSection("# Benchmark\n\nnew tables\n", section));
    expect(withoutGpuSection(withSection)).toBe(fresh);
    const again = replaceGpuSection(withSection, renderGpuSection(gpuResults(), "b.json"));
    expect(again.match(/<!-- gpu kit: /g)).toHaveLength(1);
    expect(gpuSource(again)).toBe("b.json");
    expect(() => replaceReadmeGpu("# no block\n", renderReadmeGpu())).toThrow(/README.md has no GPU kit block/);
  });

  it("reads only the kit's results files", () => {
    const dir = tempFiles({});
    const good = join(dir, "gpu-kit.json");
    writeFileSync(good, JSON.stringify(gpuResults()));
    expect(readKitResults(good).models).toHaveLength(2);
    const bench = join(PROJECT_ROOT, "bench/results/2026-12-02.json");
    expect(() => readKitResults(bench)).toThrow(UserError);
    expect(() => readKitResults(bench)).toThrow(/^\S+2026-12-02\.json: not a results file of the GPU kit/);
    expect(() => readKitResults(join(dir, "none.json"))).toThrow(/cannot read the GPU kit's results/);
  });
});

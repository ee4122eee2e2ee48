// docs/bench.md is a pure function of its results file: the committed report must be what the template
// makes of the committed JSON (no hand edits, no template change left unrendered), and missing or odd
// numbers carry a reason.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BenchReport, OurResult, TorchSetting } from "../../bench/results.js";
import { withoutGpuSection } from "../../bench/gpu-report.js";
import {
  explainMemory,
  explainMissing,
  lectureIterations,
  readBenchResults,
  readmeSummarySource,
  renderBenchMarkdown,
  renderReadmeSummary,
  replaceReadmeSummary,
  samplingRows,
  batchRows,
  type BenchResults,
} from "../../bench/report.js";
import { readDataBench } from "../../bench/data.js";
import { dataSectionOf, renderDataSection, withDataSection } from "../../bench/data-report.js";
import { pairedSectionFrom, withPairedSection } from "../../bench/paired-report.js";
import { SAMPLING, type OurSampling, type SampleProfile } from "../../bench/sampling.js";
import { PROJECT_ROOT, tempFiles } from "../helpers/project.js";

const resultsDir = join(PROJECT_ROOT, "bench/results");
const latest = readdirSync(resultsDir)
  .filter((f) => /^\d{4}-\d{2}-\d{2}\.json$/.test(f))
  .sort()
  .at(-1);

/** The newest data benchmark's results (bench/data.ts), whose section docs/bench.md ends with. */
const latestData = readdirSync(resultsDir)
  .filter((f) => /^data-\d{4}-\d{2}-\d{2}\.json$/.test(f))
  .sort()
  .at(-1);

describe("docs/bench.md", () => {
  it("is what the template renders from the newest full results file, the data section from the newest data results, the paired section from the newest paired ones", () => {
    expect(latest, "no full benchmark results in bench/results").toBeDefined();
    const rendered = renderBenchMarkdown(readBenchResults(join(resultsDir, latest!)));
    const withData = latestData ? withDataSection(rendered, renderDataSection(readDataBench(join(resultsDir, latestData)), latestData)) : rendered;
    const paired = pairedSectionFrom(resultsDir);
    const expected = paired ? withPairedSection(withData, paired) : withData;
    // The GPU kit's section, where there is one, is held to its own results file (test/kit/gpu-report.test.ts).
    expect(withoutGpuSection(readFileSync(join(PROJECT_ROOT, "docs/bench.md"), "utf8"))).toBe(expected);
  });

  it("keeps its data section when the rest is rendered again", () => {
    const section = "<!-- data bench: a test -->\n## Data\n<!-- end of data bench -->";
    const doc = withDataSection("# Benchmark\n\nold tables\n", section);
    expect(dataSectionOf(doc)).toBe(section);
    expect(withDataSection("# Benchmark\n\nnew tables\n", dataSectionOf(doc)!)).toBe(`# Benchmark\n\nnew tables\n\n${section}\n`);
  });
});

describe("README's performance summary", () => {
  it("is what the template renders from the results file it names, the newest full one", () => {
    const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
    const source = readmeSummarySource(readme);
    expect(source).toBe(latest);
    const summary = renderReadmeSummary(readBenchResults(join(resultsDir, source!)), source!, lectureIterations());
    expect(replaceReadmeSummary(readme, summary)).toBe(readme);
  });

  it("quotes each config's native and PyTorch figures from the results", () => {
    const results = readBenchResults(join(resultsDir, latest!));
    const summary = renderReadmeSummary(results, latest!, lectureIterations());
    for (const c of results.configs) {
      const native = c.ours.find((o) => o.backend === "native" && o.msPerIter !== undefined);
      if (!native) continue;
      const ms = native.msPerIter!;
      const shown = ms >= 1000 ? `${(ms / 1000).toFixed(2)} s/iter` : `${ms.toFixed(ms >= 10 ? 1 : ms >= 1 ? 2 : 3)} ms/iter`;
      expect(summary).toContain(`| ${c.name} (B${c.batch} T${c.block}) | ${shown} |`);
    }
    expect(() => replaceReadmeSummary("# no block here\n", summary)).toThrow(/README.md has no bench summary block/);
  });
});

const config = { estimateMiB: 3678 } as BenchReport["configs"][number];
const result = (o: Partial<OurResult>): OurResult => ({ backend: "wasm", status: "failed", iters: 0, ...o });

describe("explainMissing", () => {
  const tf = "backend tensorflow is not available here: Cannot find package '@tensorflow/tfjs-node' imported from /x/select.ts";
  it.each([
    {
      given: result({ backend: "tensorflow", status: "unavailable", note: tf, observed: { seconds: 2, stepsDone: 0, exit: "exit code 1", packageDir: { path: "node_modules/@tensorflow/tfjs-node", exists: false } } }),
      want: /^not installed: node_modules\/@tensorflow\/tfjs-node does not exist \(an optional dependency/,
    },
    {
      given: result({ backend: "tensorflow", status: "unavailable", note: "backend tensorflow is not available here: libtensorflow.so.2: cannot open shared object file", observed: { seconds: 2, stepsDone: 0, exit: "exit code 1", packageDir: { path: "node_modules/@tensorflow/tfjs-node", exists: true } } }),
      want: /^node_modules\/@tensorflow\/tfjs-node is installed but does not load: libtensorflow\.so\.2: cannot open shared object file$/,
    },
    // Results from before the observations were recorded: the error itself, not a story about it.
    { given: result({ backend: "tensorflow", status: "unavailable", note: tf }), want: /^Cannot find package '@tensorflow\/tfjs-node' imported from \/x\/select\.ts$/ },
    {
      given: result({ note: "Aborted(). Build with -sASSERTIONS for more info.", observed: { seconds: 41.6, stepsDone: 0, exit: "exit code 1", lastRssMiB: undefined } }),
      want: /^the wasm module aborted \(`Aborted\(\)`\) \(no training step finished; exit code 1 after 42 s\); the IR puts this model's training state at 3\.6 GiB, and wasm32 memory ends at 4 GiB$/,
    },
    {
      given: result({ backend: "cpu", status: "timeout", note: "not one timed iteration within 300 s", observed: { seconds: 300, stepsDone: 1, firstStepMs: 212_400, lastRssMiB: 2210, exit: "killed at the 300 s budget" } }),
      want: /^not one timed iteration within 300 s \(1 step finished, the first in 212\.4 s; killed at the 300 s budget after 300 s, RSS 2,210 MiB at the last step\)$/,
    },
    { given: result({ backend: "native", note: "some other failure" }), want: /^some other failure$/ },
  ])("$given.backend $given.status: $want", ({ given, want }) => {
    expect(explainMissing(given, config)).toMatch(want);
  });
});

describe("the report's new sections", () => {
  const torch = (style: "babygpt" | "nanogpt", setting: string, ms: number, build: "pthread" | "openmp" = "pthread"): TorchSetting => ({ style, setting, blas_build: build, ms_per_iter: ms, tokens_per_sec: 768_000 / ms, sgemm_gflops: 200 });
  const settings = [torch("babygpt", "1x2", 38.4), torch("babygpt", "omp2", 30), torch("nanogpt", "1x2", 20), torch("nanogpt", "omp2", 16, "openmp")];
  const results = {
    command: "npx babygpt bench --only baby",
    date: "2026-12-01T00:00:00.000Z",
    machine: { cpu: "AMD EPYC", cores: 2, memoryGiB: 24 },
    versions: { babygpt: "0.1.0" },
    quick: false,
    configs: [
      {
        name: "baby GPT",
        spec: "specs/12-baby-gpt.yaml",
        batch: 12,
        block: 64,
        params: 816_705,
        estimateMiB: 44,
        trainFlopsPerToken: 5e6,
        ours: [
          { backend: "native", status: "ok", iters: 30, description: "native (OpenBLAS 0.3.21, 2 threads)", msPerIter: 25, tokensPerSec: 30_720, sgemmGflops: 240 },
          { backend: "native-builtin", status: "ok", iters: 30, description: "native (built-in GEMM, AVX2, 2 threads)", msPerIter: 28, tokensPerSec: 27_429, sgemmGflops: 230 },
        ],
        torch: { available: true, settings, best: settings[3], bestByStyle: { babygpt: settings[1], nanogpt: settings[3] } },
      },
    ],
    compile: { perSpec: [], totalMs: 0 },
  } as unknown as BenchResults;
  const md = renderBenchMarkdown(results);

  it("takes the fastest PyTorch figure over both steps and builds as the denominator, and names it", () => {
    expect(md).toContain("| baby GPT | native (OpenBLAS 0.3.21, 2 threads) | 25.0 | 30,720 | 64% | – | – | nanoGPT step, omp2 | 16.0 | 48,000 | 120% | **0.64×** |");
  });

  it("puts the built-in GEMM beside OpenBLAS", () => {
    expect(md).toContain("| baby GPT | 25.0 ms/iter | 28.0 ms/iter | **0.89×** | 240 / 230 | 64% / 60% |");
  });

  it("lists every PyTorch step and thread setting, marking the fastest overall and per step", () => {
    expect(md).toContain("| baby GPT | babygpt step | pthread | 1x2 | 38.4 |");
    expect(md).toMatch(/\| baby GPT \| babygpt step \| pthread \| omp2 \| 30\.0 \|.*\| fastest of its step \|/);
    expect(md).toMatch(/\| baby GPT \| nanoGPT step \| openmp \| omp2 \| 16\.0 \|.*\| \*\*fastest\*\* \|/);
  });
});

describe("the sampling table", () => {
  const run = (cached: boolean, tokensPerSec: number, newTokens = 128): OurSampling => ({ cached, promptTokens: 1, newTokens, seconds: newTokens / tokensPerSec, tokensPerSec });
  const plan = (cached: boolean, tokensPerSec: number, newTokens = 128, batch = 1): OurSampling => ({ ...run(cached, tokensPerSec, newTokens), path: "plan", batch, repeats: 3 });
  const torchSetting = (setting: string, tokensPerSec: number | undefined, newTokens = 128): TorchSetting => ({
    style: "babygpt",
    setting,
    ms_per_iter: 30,
    tokens_per_sec: 25_600,
    ...(tokensPerSec ? { sampling: { cached: false, prompt_tokens: 1, new_tokens: newTokens, seconds: newTokens / tokensPerSec, tokens_per_sec: tokensPerSec } } : {}),
  });
  const withSampling = (ours: OurResult[], settings: TorchSetting[]): BenchResults =>
    ({
      command: "npx babygpt bench --only baby",
      date: "2026-12-02T00:00:00.000Z",
      machine: { cpu: "AMD EPYC", cores: 2, memoryGiB: 24 },
      versions: {},
      quick: false,
      sampling: SAMPLING,
      configs: [{ name: "baby GPT", spec: "specs/12-baby-gpt.yaml", batch: 12, block: 64, params: 1, estimateMiB: 44, ours, torch: { available: true, settings, best: settings[0] } }],
      compile: { perSpec: [], totalMs: 0 },
    }) as unknown as BenchResults;

  it("puts ours on the decode plan with and without the cache, and on the generated forward, beside PyTorch's fastest sampling setting", () => {
    const sampling = [plan(true, 900), plan(false, 300), { ...run(true, 200), path: "forward" as const }];
    const ours: OurResult = { backend: "native", status: "ok", iters: 30, description: "native (OpenBLAS 0.3.21, 2 threads)", msPerIter: 25, sampling };
    const results = withSampling([ours], [torchSetting("1x2", 450), torchSetting("2x2", 3), torchSetting("omp1", undefined)]);
    expect(samplingRows(results)[0]).toMatchObject({ tokens: "1 + 128", torchTokens: "1 + 128", cached: "900.0", uncached: "300.0", speedup: "**3.00×**", forward: "200.0", torch: "450.0 (1x2)", cachedRatio: "**2.00×**", uncachedRatio: "**0.67×**", note: "" });
    const md = renderBenchMarkdown(results);
    expect(md).toContain("| baby GPT | native (OpenBLAS 0.3.21, 2 threads) | 1 + 128 | 1 + 128 | 900.0 | 300.0 | **3.00×** | 200.0 | 450.0 (1x2) | **2.00×** | **0.67×** |  |");
    expect(md).toContain(`a prompt of length ${SAMPLING.promptTokens}, ${SAMPLING.newTokens} new`);
    expect(md).toContain("The PyTorch target has no KV cache");
    // the PyTorch settings table shows each setting's protocol figure, and "–" where it did not sample
    expect(md).toMatch(/\| baby GPT \| babygpt step \| pthread \| 2x2 \| 30\.0 \| 25,600 \| 3\.0 \|/);
    expect(md).toMatch(/\| baby GPT \| babygpt step \| pthread \| omp1 \| 30\.0 \| 25,600 \| – \|/);
  });

  it("says where the generated forward ran: results from before the plan, a backend without plans", () => {
    const old: OurResult = { backend: "native", status: "ok", iters: 30, msPerIter: 25, sampling: [run(true, 250), run(false, 270)] };
    const wasm: OurResult = { backend: "wasm", status: "ok", iters: 30, msPerIter: 900, sampling: [{ ...run(true, 17), path: "forward" }, { ...run(false, 12), path: "forward" }] };
    const [before, noPlans] = samplingRows(withSampling([old, wasm], [torchSetting("1x2", 450)]));
    expect(before).toMatchObject({ cached: "250.0", uncached: "270.0", forward: "–", note: "the generated forward: predates the decode plan" });
    expect(noPlans).toMatchObject({ cached: "17.0", uncached: "12.0", forward: "–", note: "the generated forward: this backend runs no decode plans" });
  });

  it("puts a batch beside one sample, by the protocol and within the context", () => {
    const sampling = [plan(true, 900), plan(false, 300), plan(true, 1500, 128, 8), plan(true, 3000, 63), plan(true, 12_000, 63, 8)];
    const results = withSampling([{ backend: "native", status: "ok", iters: 30, description: "native", msPerIter: 25, sampling }], [torchSetting("1x2", 450)]);
    expect(batchRows(results)).toEqual([
      { config: "baby GPT", backend: "native", tokens: "1 + 128 (past the context of 64)", one: "900", batch: "1,500 (8)", ratio: "**1.67×**" },
      { config: "baby GPT", backend: "native", tokens: "1 + 63 (within the context)", one: "3,000", batch: "12,000 (8)", ratio: "**4.00×**" },
    ]);
    expect(renderBenchMarkdown(results)).toContain("| baby GPT | native | 1 + 63 (within the context) | 3,000 | 12,000 (8) | **4.00×** |");
  });

  it("shows where a sampled token's time goes, before and after the plan", () => {
    const sampleProfile: SampleProfile = {
      newTokens: 128,
      before: { total: 3000, kernels: 2400, engine: 400, read: 120, draw: 70, loop: 10 },
      after: { total: 1500, steps: { linear: 1100, attention: 230, layer_norm: 17, embed: 1.5 }, draw: 2, call: 40 },
    };
    const ours: OurResult = { backend: "native", status: "ok", iters: 30, description: "native", msPerIter: 25, sampling: [plan(true, 900)], sampleProfile };
    const md = renderBenchMarkdown(withSampling([ours], [torchSetting("1x2", 450)]));
    expect(md).toContain("## Where a sampled token's time goes");
    expect(md).toContain("### baby GPT (native, 128 tokens): 2.0× faster per token");
    expect(md).toContain("| the forward's kernels (the arithmetic) | 2,400 (80%) |");
    expect(md).toContain("| the draw (pickToken in JavaScript) | 70.0 (2%) |");
    expect(md).toMatch(/\| linear layers \(matrix products\) \| 1,100 \(73%\) \|\n\| attention \(with its KV cache\) \| 230 \(15%\) \|\n\| layer norms \| 17\.0 \(1%\) \|\n\| token embedding \| 1\.5 \(0%\) \|/);
    expect(md).toContain("| **per token** | **1,500** |");
  });

  it("says when the two sides did not generate the same counts, and when a run is missing", () => {
    const short: OurResult = { backend: "wasm", status: "partial", iters: 3, msPerIter: 900, sampling: [run(true, 90, 100)] };
    const [row] = samplingRows(withSampling([short], [torchSetting("1x2", 450)]));
    expect(row).toMatchObject({ cached: "90.0", uncached: "–", speedup: "–", uncachedRatio: "–" });
    expect(row!.note).toMatch(/only the cached run finished \(partial\)/);
    expect(row!.note).toMatch(/not like for like: ours 1 \+ 100 tokens, PyTorch 1 \+ 128/);
  });

  it("renders results from before the protocol with – and a note, their old figures where they were", () => {
    const ours: OurResult = { backend: "native", status: "ok", iters: 30, description: "native (OpenBLAS 0.3.21, 2 threads)", msPerIter: 25, sampleTokensPerSec: 113.4 };
    const { sampling: _protocol, ...old } = withSampling([ours], [{ ...torchSetting("1x2", undefined), sample_tokens_per_sec: 118.1 }]);
    const md = renderBenchMarkdown(old as BenchResults);
    expect(md).toContain("This results file predates the one sampling protocol");
    expect(md).toContain("| baby GPT | native (OpenBLAS 0.3.21, 2 threads) | – | – | – | – | – | – | – | – | – | predates the sampling protocol: not compared |");
    expect(md).toMatch(/\| baby GPT \| native \(OpenBLAS 0\.3\.21, 2 threads\) \| 25\.0 \| – \| – \| – \| 113\.4 \|/);
    expect(md).toMatch(/\| baby GPT \| babygpt step \| pthread \| 1x2 \| 30\.0 \| 25,600 \| 118\.1 \|/);
  });

  it.each(readdirSync(resultsDir).filter((f) => /^\d{4}-\d{2}-\d{2}\.json$/.test(f)))("renders the committed %s", (file) => {
    expect(renderBenchMarkdown(readBenchResults(join(resultsDir, file)))).toContain("## Sampling: ours with and without the KV cache");
  });
});

describe("explainMemory", () => {
  it.each([
    { estimate: 44, measured: 63, want: /^$/ },
    { estimate: 3678, measured: 3527, want: /^$/ },
    { estimate: 0.19, measured: 6, want: /19[45] KiB.*backend's own buffers/ },
    { estimate: 100, measured: 450, want: /over twice/ },
    { estimate: 100, measured: 20, want: /under half/ },
  ])("estimate $estimate MiB, measured $measured MiB", ({ estimate, measured, want }) => {
    expect(explainMemory(estimate, measured)).toMatch(want);
  });
});

describe("readBenchResults", () => {
  it.each([
    { name: "not JSON", text: "root:x:0:0", want: /cannot read benchmark results/ },
    { name: "another JSON", text: '{"a":1}', want: /not a results file of `babygpt bench`/ },
    { name: "a quick run", text: JSON.stringify({ command: "c", date: "d", configs: [], compile: {}, quick: true }), want: /--quick run/ },
  ])("refuses $name", ({ text, want }) => {
    const dir = tempFiles({ "r.json": text });
    expect(() => readBenchResults(join(dir, "r.json"))).toThrow(want);
  });
});

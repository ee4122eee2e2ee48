// The paired rounds' section of docs/bench.md: what it shows from the results files, and that it is
// replaced, appended and kept by the marked-section helpers the data bench and the GPU kit share.
import { describe, expect, it } from "vitest";
import { batchCeilingFigures, pairedSectionOf, renderPairedSection, withPairedSection, type PairedSamplingFile, type PairedStepFile } from "../../bench/paired-report.js";
import type { BatchCeilingFile } from "../../bench/results.js";
import { SAMPLING } from "../../bench/sampling.js";
import { withSection } from "../../bench/sections.js";

const round = (ours: number, torch: number, extra: Record<string, number> = {}) => ({ ours, uncached: ours / 2, torch: [{ setting: "1x1", tokensPerSec: torch }], ratio: ours / torch, load: 1, ...extra });

const sampling: PairedSamplingFile = {
  command: "node --import tsx bench/paired-sampling.ts --rounds 3",
  date: "2026-12-07T20:00:00.000Z",
  machine: { cpu: "Test CPU", cores: 2 },
  backend: "native",
  protocol: SAMPLING,
  configs: [
    {
      config: "baby GPT",
      spec: "specs/12-baby-gpt.yaml",
      rounds: [round(1000, 400), round(900, 300), round(1200, 500)],
      medianRatio: 2.5,
      oursMedian: 1000,
      torchFastestMedian: 400,
      cacheOverNoCache: 1.5,
      batchByProtocol: 1.6,
      batchWithinContext: 4.1,
      withinContextTokens: 63,
    },
    { config: "bigram", spec: "specs/01-bigram.yaml", rounds: [round(300000, 20000)], medianRatio: 15, oursMedian: 300000, torchFastestMedian: 20000, cacheOverNoCache: 1.02 },
  ],
};

const step: PairedStepFile = {
  command: "node --import tsx bench/paired-step.ts --rounds 2",
  date: "2026-12-07T21:00:00.000Z",
  spec: "specs/01-bigram.yaml",
  backend: "native",
  rounds: [{ ratio: 1.9 }, { ratio: 2.3 }],
  medianRatio: 2.1,
  oursMedianMs: 0.07,
  torchFastestMedianMs: 0.147,
};

// Two rounds; with a batch of 8 and 128 new tokens, round 1: 1,024 tokens of 400 GFLOP at 200 GFLOP/s
// take 2 s, 512 tokens/s, over one sample's 200: 2.56×; round 2 at 300 GFLOP/s over 250: 3.072×.
const ceiling: BatchCeilingFile = {
  command: "node --import tsx bench/batch-ceiling.ts --rounds 2",
  date: "2026-12-08T02:00:00.000Z",
  machine: { cpu: "Test CPU", cores: 2 },
  backend: "native",
  spec: "specs/12-baby-gpt.yaml",
  protocol: { ...SAMPLING, batch: 8, newTokens: 128 },
  withinContextTokens: 63,
  flops: { one: 50e9, batch: 400e9, oneWithin: 1e9, batchWithin: 8e9 },
  rounds: [
    { one: 200, batch: 300, oneWithin: 1000, batchWithin: 3000, torchOne: 40, torchBatch: 80, productGflops: 200, load: 1 },
    { one: 250, batch: 500, oneWithin: 1000, batchWithin: 4000, torchOne: 50, torchBatch: 150, productGflops: 300, load: 1 },
  ],
};

describe("the batch ceiling", () => {
  it("takes each figure's median over the rounds", () => {
    const f = batchCeilingFigures(ceiling);
    expect(f.byProtocol).toBeCloseTo((1.5 + 2) / 2, 10);
    expect(f.withinContext).toBeCloseTo((3 + 4) / 2, 10);
    expect(f.torch).toBeCloseTo((2 + 3) / 2, 10);
    expect(f.batchOverTorch).toBeCloseTo((300 / 80 + 500 / 150) / 2, 10);
    expect(f.ceiling).toBeCloseTo((2.56 + 3.072) / 2, 10);
    // 50 GFLOP in 128 / 200 s, and in 128 / 250 s.
    expect(f.oneGflops).toBeCloseTo((78.125 + 97.65625) / 2, 10);
    expect(f.productGflops).toBe(250);
  });

  it("is shown below the rounds, with the command, the file and the operations counted", () => {
    const section = renderPairedSection(undefined, undefined, { file: "bench/results/batch-ceiling-2026-12-08.json", results: ceiling });
    expect(section).toContain("### A batch of 8 samples, and what this machine allows");
    expect(section).toContain("| 128 (the protocol) | **1.75×**");
    expect(section).toContain("| 2.50× | 2.82× | 3.54× |");
    expect(section).toContain("`node --import tsx bench/batch-ceiling.ts --rounds 2`");
    expect(section).toContain("400,000 MFLOP by the protocol");
    expect(section).not.toContain("### Sampling");
  });
});

describe("the paired rounds' section", () => {
  const section = renderPairedSection({ file: "bench/results/paired-sampling-2026-12-07.json", results: sampling }, { file: "bench/results/paired-step-2026-12-07.json", results: step });

  it.each([
    ["the median ratio and the range of the rounds", "| baby GPT | 3 | 1,000 | 400 | **2.50×** | 2.40–3.00 | 1.50× | 1.60× | 4.10× (63 tokens) |"],
    ["a config without batch figures", "| bigram | 1 | 300,000 | 20,000 | **15.00×** | 15.00–15.00 | 1.02× | – | – |"],
    ["the training step", "| specs/01-bigram.yaml | 2 | 0.070 | 0.147 | **2.10×** | 1.90–2.30 |"],
    ["the commands that measured them", "`node --import tsx bench/paired-sampling.ts --rounds 3`"],
    ["the files it was written from", "from bench/results/paired-sampling-2026-12-07.json and bench/results/paired-step-2026-12-07.json"],
  ])("shows %s", (_, line) => {
    expect(section).toContain(line);
  });

  it("leaves out a kind it has no file of", () => {
    const alone = renderPairedSection(undefined, { file: "bench/results/paired-step-2026-12-07.json", results: step });
    expect(alone).not.toContain("### Sampling");
    expect(alone).toContain("### A training step");
  });

  it("is appended to a report without one, replaced in one that has it, and found again", () => {
    const report = "# Benchmark\n\nthe main tables\n";
    const once = withPairedSection(report, section);
    expect(once.startsWith(report.trimEnd())).toBe(true);
    expect(pairedSectionOf(once)).toBe(section);
    const other = renderPairedSection(undefined, { file: "bench/results/paired-step-2026-12-08.json", results: { ...step, medianRatio: 3 } });
    const twice = withPairedSection(once, other);
    expect(pairedSectionOf(twice)).toBe(other);
    expect(twice).not.toContain("**2.10×**");
    expect(twice.split("the main tables").length).toBe(2);
  });

  it("keeps what follows it when replaced", () => {
    const md = withSection("a\n\n<!-- s -->old<!-- e -->\n\nafter\n", "<!-- s -->", "<!-- e -->", "<!-- s -->new<!-- e -->");
    expect(md).toBe("a\n\n<!-- s -->new<!-- e -->\n\nafter\n");
  });
});

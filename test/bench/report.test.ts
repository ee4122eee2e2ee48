// docs/bench.md is a pure function of its results file: the committed report must be what the template
// makes of the committed JSON (no hand edits, no template change left unrendered), and missing or odd
// numbers carry a reason.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BenchReport, OurResult } from "../../bench/bench.js";
import { explainMemory, explainMissing, readBenchResults, renderBenchMarkdown } from "../../bench/report.js";
import { PROJECT_ROOT, tempFiles } from "../helpers/project.js";

const resultsDir = join(PROJECT_ROOT, "bench/results");
const latest = readdirSync(resultsDir)
  .filter((f) => /^\d{4}-\d{2}-\d{2}\.json$/.test(f))
  .sort()
  .at(-1);

describe("docs/bench.md", () => {
  it("is what the template renders from the newest full results file", () => {
    expect(latest, "no full benchmark results in bench/results").toBeDefined();
    const rendered = renderBenchMarkdown(readBenchResults(join(resultsDir, latest!)));
    expect(readFileSync(join(PROJECT_ROOT, "docs/bench.md"), "utf8")).toBe(rendered);
  });
});

const config = { estimateMiB: 3678 } as BenchReport["configs"][number];
const result = (o: Partial<OurResult>): OurResult => ({ backend: "wasm", status: "failed", iters: 0, ...o });

describe("explainMissing", () => {
  it.each([
    {
      given: result({ backend: "tensorflow", status: "unavailable", note: "backend tensorflow is not available here: Cannot find package '@tensorflow/tfjs-node' imported from /x/select.ts" }),
      want: /^@tensorflow\/tfjs-node is not installed: its install downloads libtensorflow/,
    },
    { given: result({ note: "Aborted(). Build with -sASSERTIONS for more info." }), want: /wasm module aborted.*4 GiB.*3\.6 GiB/ },
    { given: result({ backend: "cpu", status: "timeout", note: "not one timed iteration within 300 s" }), want: /^not one timed iteration within 300 s$/ },
    { given: result({ backend: "native", note: "some other failure" }), want: /^some other failure$/ },
  ])("$given.backend $given.status: $want", ({ given, want }) => {
    expect(explainMissing(given, config)).toMatch(want);
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

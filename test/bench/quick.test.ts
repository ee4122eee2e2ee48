// The benchmark's --quick mode as a smoke test: it runs end to end, measures every backend asked for that
// loads, and PyTorch where it is installed. No timing is asserted (speed lives in docs/bench.md).
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BenchReport } from "../../bench/results.js";
import { PROJECT_ROOT, tempFiles } from "../helpers/project.js";

const torch = spawnSync("/usr/bin/python3", ["-c", "import torch"]).status === 0;

describe("bench --quick", () => {
  it("measures the bigram on wasm (and PyTorch when installed) and writes its results", () => {
    const dir = tempFiles({});
    const args = ["bin/babygpt.mjs", "bench", "--quick", "--only", "bigram", "--backends", "wasm", "--results", dir, ...(torch ? [] : ["--no-torch"])];
    execFileSync(process.execPath, args, { cwd: PROJECT_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const [file] = readdirSync(dir);
    const report = JSON.parse(readFileSync(join(dir, file!), "utf8")) as BenchReport;
    expect(report.quick).toBe(true);
    const bigram = report.configs[0]!;
    expect(bigram.name).toBe("bigram");
    const wasm = bigram.ours.find((o) => o.backend === "wasm")!;
    expect(wasm.status).toBe("ok");
    expect(wasm.msPerIter).toBeGreaterThan(0);
    // One sampling protocol on both sides: ours with the KV cache and without, PyTorch (no cache), each
    // the protocol's prompt and new-token counts as generated, recorded in the results file.
    const protocol = report.sampling!;
    expect(protocol.newTokens).toBeGreaterThan(8); // past the bigram's block_size: the window slides
    const counts = (r: { promptTokens: number; newTokens: number }): [number, number] => [r.promptTokens, r.newTokens];
    expect(wasm.sampling?.map((r) => r.cached)).toEqual([true, false]);
    for (const r of wasm.sampling!) {
      expect(counts(r)).toEqual([protocol.promptTokens, protocol.newTokens]);
      expect(r.tokensPerSec).toBeCloseTo(r.newTokens / r.seconds, 6);
    }
    if (torch) {
      expect(bigram.torch.best?.tokens_per_sec).toBeGreaterThan(0);
      const sampled = (bigram.torch.settings ?? []).flatMap((s) => (s.sampling ? [s.sampling] : []));
      expect(sampled.length).toBeGreaterThan(0);
      for (const t of sampled) {
        expect(t.cached).toBe(false);
        expect(counts({ promptTokens: t.prompt_tokens, newTokens: t.new_tokens })).toEqual([protocol.promptTokens, protocol.newTokens]);
        expect(t.tokens_per_sec).toBeGreaterThan(0);
      }
    }
    expect(report.compile.perSpec.length).toBeGreaterThanOrEqual(13);
  });
});

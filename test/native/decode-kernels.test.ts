// The decoder's linear layers run AVX-512 panels where the CPU has AVX-512F (decode_avx512.cc) and AVX2
// ones elsewhere (decode.cc); BABYGPT_DECODE_KERNEL=avx2 asks for the AVX2 ones. Every kernel computes an
// element the same way, so steps of one position per sequence give the same bits on both; a wider step
// (a window, a prompt) runs sgemm on AVX2 and the panels on AVX-512, and the two agree to rounding (and
// so does what follows it: its keys and values are cached). The
// AVX-512 path is held to the generated forward by decode.test.ts; this holds the AVX2 one to it through
// them. Runs where the CPU has AVX-512F (elsewhere only the AVX2 kernels exist, which decode.test.ts holds).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nativeUnavailable } from "../helpers/native.js";
import { PROJECT_ROOT } from "../helpers/project.js";
import { scheduledLogits } from "./decode-logits.js";

const unavailable = nativeUnavailable();
const avx512 = (() => {
  try {
    return /^flags\s*:.*\bavx512f\b/m.test(readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    return false;
  }
})();
const skip = unavailable ?? (avx512 ? undefined : "this CPU has no AVX-512F: the decoder has one set of kernels here");

const MODELS: readonly [string, readonly string[]][] = [
  ["specs/12-baby-gpt.yaml", ["model.n_embd=24", "model.block_size=8"]], // 24 columns: a panel and a half
  ["test/parity/specs/variants.yaml", []], // per-head biases, multi-query, GeGLU
  ["specs/zoo/gptj.yaml", ["model.block_size=8"]], // a parallel block, rotary
];

function inChild(spec: string, sets: readonly string[]): { kernels: string; steps: { wide: boolean; logits: Float32Array }[] } {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "test/native/decode-logits.ts"), spec, ...sets], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    env: { ...process.env, BABYGPT_DECODE_KERNEL: "avx2" },
    timeout: 180_000,
    maxBuffer: 64 * 2 ** 20,
  });
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as { kernels: string; steps: { wide: boolean; logits: string }[] };
  return {
    kernels: out.kernels,
    steps: out.steps.map((s) => {
      const bytes = Buffer.from(s.logits, "base64");
      return { wide: s.wide, logits: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) };
    }),
  };
}

describe.skipIf(skip)(`the decoder's AVX-512 and AVX2 kernels${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it.each(MODELS)("%s: the same bits one position at a time, the same logits to rounding over a window", async (spec, sets) => {
    const here = await scheduledLogits(spec, sets);
    const there = inChild(spec, sets);
    expect(here.kernels).toBe("avx512");
    expect(there.kernels).toBe("avx2");
    expect(there.steps.map((s) => s.wide)).toEqual(here.steps.map((s) => s.wide));
    expect(here.steps.filter((s) => s.wide).length).toBe(3); // two windows and the prompt
    here.steps.forEach((s, i) => {
      const other = there.steps[i]!.logits;
      if (!s.wide) {
        expect(Buffer.from(s.logits.buffer).equals(Buffer.from(other.buffer, other.byteOffset, other.byteLength)), `step ${i}`).toBe(true);
        return;
      }
      const scale = Math.max(...Array.from(other, Math.abs));
      const worst = Math.max(...Array.from(s.logits, (v, j) => Math.abs(v - other[j]!)));
      expect(worst / scale, `step ${i}`).toBeLessThan(1e-5);
    });
  });
});

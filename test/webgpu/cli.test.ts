// The webgpu backend through the real `babygpt` command: training on it (the adapter in the run log and
// meta.json, a falling loss, a process that exits), its checkpoint evaluated on native and on webgpu to the
// same loss, `--backend auto` passing a software adapter by with the reason, and a model too big for the
// adapter's buffers refused before anything is allocated or written.
//
// A small model on a slice of the corpus: in CI the adapter is lavapipe (WebGPU on the CPU).
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readMetrics } from "../../runtime/train/metrics.js";
import { bufferLimit } from "../../runtime/webgpu/limits.js";
import { openAdapter } from "../../runtime/webgpu/adapter.js";
import { useSharedData } from "../helpers/project.js";
import { webgpuUnavailable } from "../helpers/webgpu.js";
import { runCli } from "../reliability/cli.js";

const skipReason = await webgpuUnavailable();
const work = mkdtempSync(join(tmpdir(), "babygpt-webgpu-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(skipReason !== undefined)(`babygpt on webgpu${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  const corpus = join(work, "slice.txt");
  const run = join(work, "run");
  // eval_interval 10 logs every step's loss (metrics.jsonl keeps one in a tenth of an interval).
  const quick = ["--set", "training.eval_iters=2", "--set", "training.eval_interval=10", "--quiet"];

  it("trains 09-layernorm with a falling loss, records the adapter in the log and meta.json, and exits", async () => {
    // 61,450 characters: a val split of 6,145 tokens, 768 windows of 8, 24 forward passes of the 32 the
    // trainer's estimates run (eval --batch 32), whose shaders lavapipe has then compiled and cached.
    writeFileSync(corpus, readFileSync(join(useSharedData(), "tinyshakespeare.txt"), "utf8").slice(0, 61_450));
    const r = await runCli(["train", "specs/09-layernorm.yaml", "--backend", "webgpu", "--iters", "30", "--data", corpus, "--out", run, ...quick, "--set", "training.optimizer.lr=1e-2"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^backend: webgpu$/m);
    expect(r.stderr).toMatch(/^webgpu adapter: .+ \(.+\)$/m);
    const meta = JSON.parse(readFileSync(join(run, "meta.json"), "utf8")) as { backend: string; adapter?: Record<string, string> };
    expect(meta.backend).toBe("webgpu");
    const { info } = await openAdapter();
    expect(meta.adapter).toMatchObject({ vendor: info.vendor, architecture: info.architecture, description: info.description });
    const losses = readMetrics(run).flatMap((m) => (m.type === "train" && m.loss !== undefined ? [m.loss] : []));
    expect(losses.length).toBeGreaterThan(10);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 0.3);
  });

  it("evaluates the checkpoint to the same exact loss on native and on webgpu (within 1e-3)", async () => {
    const loss = async (backend: string): Promise<number> => {
      const r = await runCli(["eval", run, "--backend", backend, "--data", corpus, "--batch", "32"]);
      expect(r.code, r.stderr).toBe(0);
      const m = /val loss (\d+\.\d+) .* over 6,144 tokens .* \((\w+)\)$/m.exec(r.stdout);
      expect(m?.[2], r.stdout).toBe(backend);
      return Number(m![1]);
    };
    const [native, webgpu] = [await loss("native"), await loss("webgpu")];
    expect(Math.abs(native - webgpu)).toBeLessThanOrEqual(1e-3);
  });

  it("--backend auto uses webgpu only on a GPU: a software adapter is passed by, with the reason in the log", async () => {
    const { info } = await openAdapter();
    const r = await runCli(["train", "specs/01-bigram.yaml", "--iters", "1", "--data", corpus, "--out", join(work, "auto"), ...quick]);
    expect(r.code, r.stderr).toBe(0);
    if (info.software) {
      expect(r.stderr).toMatch(/^backend: native .*\(skipped webgpu: .*software adapter.*slower than the native backend\)$/m);
      expect(r.stderr).not.toMatch(/^Warning:/m); // asked in a probe process: Dawn never loaded into this one
    } else {
      expect(r.stderr).toMatch(/^backend: webgpu$/m);
    }
  });

  it("refuses a model whose attention weights pass the adapter's buffer limit, naming the figure, before writing anything", async () => {
    const limit = bufferLimit((await openAdapter()).limits);
    // 09-layernorm has 4 heads; at T = 128 a sequence's weights are 4·128·128 floats per layer.
    const batch = Math.floor(limit / (4 * 4 * 128 * 128)) + 1;
    const out = join(work, "too-big");
    const r = await runCli(["train", "specs/09-layernorm.yaml", "--backend", "webgpu", "--data", corpus, "--out", out, "--set", `training.batch_size=${batch}`, "--set", "model.block_size=128", ...quick]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n").filter((l) => !l.startsWith("Warning:"))).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`needs a GPU buffer of .* for the attention weights of .*\\(batch ${batch} × 4 heads × 128 × 128\\), more than this adapter allows in one buffer`));
    expect(existsSync(out)).toBe(false);
  });
});

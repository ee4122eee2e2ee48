// `babygpt sample`'s speed line and --num-samples: the tokens/s (and what ran the model) on stderr at the
// end, which --quiet drops; N samples as one batch, separated as nanoGPT's sample.py separates them, sample
// i the text that --seed plus i gives alone; seeds past 32 bits refused.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tempFiles } from "../helpers/project.js";
import { nativeUnavailable } from "../helpers/native.js";
import { runCli } from "./cli.js";

const sets = (...s: string[]): string[] => s.flatMap((x) => ["--set", x]);
let run = "";

beforeAll(async () => {
  run = join(tempFiles({}), "run");
  const r = await runCli(["train", "specs/12-baby-gpt.yaml", ...sets("model.n_embd=24", "model.block_size=8", "training.eval_iters=1"), "--iters", "2", "--out", run, "--quiet"]);
  expect(r.code, r.stderr).toBe(0);
});

/** What ran the model: the decode plan where the native backend loads (CI requires it), else the forward. */
const ranOn = nativeUnavailable() ? String.raw`the generated forward on \w+: .+` : "the decode plan on native";

describe("babygpt sample", () => {
  it.concurrent("ends with the tokens/s on stderr, which --quiet drops", async () => {
    const loud = await runCli(["sample", run, "--tokens", "20", "--seed", "3"]);
    expect(loud.code, loud.stderr).toBe(0);
    expect(loud.stderr).toMatch(new RegExp(String.raw`^20 tokens in \d+\.\d\d s: [\d,]+ tokens/s \(${ranOn}\)\n$`));
    const quiet = await runCli(["sample", run, "--tokens", "20", "--seed", "3", "--quiet"]);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe("");
    expect(quiet.stdout).toBe(loud.stdout);
  });

  it.concurrent("--num-samples N: one batch, sample i what --seed + i gives alone", async () => {
    const batch = await runCli(["sample", run, "--tokens", "30", "--seed", "10", "--num-samples", "3", "--prompt", "ab"]);
    expect(batch.code, batch.stderr).toBe(0);
    expect(batch.stderr).toMatch(new RegExp(String.raw`^3 samples × 30 tokens in \d+\.\d\d s: [\d,]+ tokens/s \(${ranOn}\)\n$`));
    const singles = await Promise.all([10, 11, 12].map((seed) => runCli(["sample", run, "--tokens", "30", "--seed", String(seed), "--prompt", "ab", "--quiet"])));
    expect(batch.stdout).toBe(singles.map((s) => s.stdout).join("---------------\n"));
    expect(new Set(singles.map((s) => s.stdout)).size).toBe(3);
  });

  it.concurrent("refuses seeds that --num-samples would take past 32 bits", async () => {
    const r = await runCli(["sample", run, "--seed", "4294967290", "--num-samples", "7"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error: --seed 4294967290 with --num-samples 7 asks for seeds up to 4294967296, past 4294967295 (seeds are 32-bit)\n");
  });
});

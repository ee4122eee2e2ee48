// A run remembers what it was trained on: meta.json records the corpus (path, size, sha256); `eval` and
// `train --resume` use it when --data is left out (here BABYGPT_DATA_DIR points at tinyshakespeare, which
// they used to switch to), refuse a --data that is another text unless --other-data says so, and say so
// when the recorded file has changed. `sample` without --prompt starts from the run's own vocabulary.
import { createHash } from "node:crypto";
import { appendFileSync, cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCheckpoint } from "../../runtime/checkpoint/checkpoint.js";
import { tempFiles, useSharedData } from "../helpers/project.js";
import { runCli, snapshot, stackLines } from "./cli.js";

/** A corpus of words on one line: no newline, so a newline is not in the vocabulary. */
function words(seed: number, count: number): string {
  const vocab = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];
  let x = seed;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out.push(vocab[(x >>> 16) % vocab.length]!);
  }
  return out.join(" ");
}

const sha = (text: string): string => createHash("sha256").update(text).digest("hex");
let dir: string;
let fixture: string;
const corpus = words(1, 4000);
/** The same words backwards: the same characters, another text. */
const other = corpus.split(" ").reverse().join(" ");

beforeAll(async () => {
  dir = tempFiles({ "words.txt": corpus, "other.txt": other });
  fixture = join(dir, "run");
  const r = await runCli(["train", "specs/01-bigram.yaml", "--data", join(dir, "words.txt"), "--iters", "5", "--set", "training.eval_iters=2", "--out", fixture, "--quiet"]);
  expect(r.code, r.stderr).toBe(0);
});

/** A copy of the trained run, for a case that changes it. */
const copyRun = (): string => {
  const run = join(tempFiles({}), "run");
  cpSync(fixture, run, { recursive: true });
  return run;
};

describe("a run remembers its corpus", () => {
  it("records the corpus in meta.json", () => {
    expect(loadCheckpoint(fixture).meta.corpus).toEqual({ path: join(dir, "words.txt"), bytes: corpus.length, sha256: sha(corpus) });
  });

  it.concurrent("eval uses it without --data", async () => {
    const r = await runCli(["eval", fixture]);
    expect(r.code, r.stderr).toBe(0);
    // the val split of words.txt, in whole windows of block_size 8
    const val = corpus.length - Math.floor(0.9 * corpus.length);
    expect(r.stdout).toContain(`over ${(Math.floor((val - 1) / 8) * 8).toLocaleString("en-US")} tokens at step 5`);
  });

  it.concurrent("eval refuses another --data in one line, and takes it with --other-data", async () => {
    const before = snapshot(fixture);
    const refused = await runCli(["eval", fixture, "--data", join(dir, "other.txt")]);
    expect(refused.code).toBe(2);
    expect(stackLines(refused.stderr)).toEqual([]);
    expect(refused.stderr).toBe(
      `error: --data ${dir}/other.txt (sha256 ${sha(other).slice(0, 12)}…) is not the corpus ${fixture} was trained on (${dir}/words.txt, ${corpus.length.toLocaleString("en-US")} bytes, sha256 ${sha(corpus).slice(0, 12)}…); leave --data out to use that one, or add --other-data to use this one anyway\n`,
    );
    const taken = await runCli(["eval", fixture, "--data", join(dir, "other.txt"), "--other-data"]);
    expect(taken.code, taken.stderr).toBe(0);
    expect(taken.stderr).toContain(`not the corpus ${fixture} was trained on (${dir}/words.txt), as --other-data asks`);
    expect(snapshot(fixture)).toEqual(before);
  });

  it.concurrent("train --resume continues on it without --data, and refuses another --data", async () => {
    const run = copyRun();
    const refused = await runCli(["train", "--resume", run, "--iters", "8", "--data", useSharedData()]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trimEnd().split("\n").at(-1)).toMatch(/^error: --data \S+ \(sha256 86c4e6aa9db7…\) is not the corpus .* was trained on .*; leave --data out to use that one, or add --other-data to use this one anyway$/);
    const r = await runCli(["train", "--resume", run, "--iters", "8", "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    const train = Math.floor(0.9 * corpus.length);
    expect(r.stderr).toContain(`${train.toLocaleString("en-US")} train / ${(corpus.length - train).toLocaleString("en-US")} val tokens`);
    expect(loadCheckpoint(run).meta.corpus!.sha256).toBe(sha(corpus));
    expect(loadCheckpoint(run).meta.step).toBe(8);
  });

  it.concurrent("says so when the recorded corpus has changed since", async () => {
    // a copy of the run, trained on a copy of the corpus that then changes
    const changedDir = tempFiles({ "words.txt": corpus });
    const run = copyRun();
    const meta = JSON.parse(readFileSync(join(run, "meta.json"), "utf8")) as { corpus: { path: string } };
    meta.corpus.path = join(changedDir, "words.txt");
    writeFileSync(join(run, "meta.json"), JSON.stringify(meta));
    appendFileSync(join(changedDir, "words.txt"), " alpha");
    const r = await runCli(["eval", run]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: \\S+ was trained on ${changedDir}/words\\.txt \\(${corpus.length.toLocaleString("en-US")} bytes, sha256 ${sha(corpus).slice(0, 12)}…\\), which has changed since \\(sha256 ${sha(`${corpus} alpha`).slice(0, 12)}… now\\); pass --data with that text, or --data OTHER --other-data to use another\\n$`));
  });
});

describe("sample without --prompt", () => {
  it.concurrent("starts from the run's vocabulary (this corpus has no newline)", async () => {
    const r = await runCli(["sample", fixture, "--tokens", "40", "--seed", "3", "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const text = r.stdout.replace(/\n$/, "");
    expect(Array.from(text)).toHaveLength(40);
    for (const c of text) expect(corpus).toContain(c);
  });
});

// A run's files are checked before anything is built from them, and --resume trains the run's own spec.
// - every checkpoint's meta.json records the sha256 of spec.resolved.yaml: an edited copy (a description
//   changed, which no model hash covers) is refused by sample, eval, attention and --resume in one line;
// - a run from before the hash was recorded is checked by its model hash instead, accepted, and gets the
//   hash with its next checkpoint;
// - a spec file edited since the run started is reported in one line and not used; a --set is used and
//   recorded.
import { createHash } from "node:crypto";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tempFiles } from "../helpers/project.js";
import { PROJECT_ROOT, runCli, snapshot, stackLines } from "./cli.js";

const sha = (b: Uint8Array | string): string => createHash("sha256").update(b).digest("hex");
let dir: string;
let fixture: string;
let specFile: string;

type Meta = { files: { model: string; optimizer: string; spec?: string }; overrides: string[]; step: number };
const readMeta = (run: string): Meta => JSON.parse(readFileSync(join(run, "meta.json"), "utf8")) as Meta;
const writeMeta = (run: string, meta: Meta): void => writeFileSync(join(run, "meta.json"), JSON.stringify(meta, null, 2));
/** metrics.jsonl's learning rate by step (train records). */
const rates = (run: string): Map<number, number> =>
  new Map(
    readFileSync(join(run, "metrics.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; step: number; lr?: number })
      .filter((r) => r.type === "train")
      .map((r) => [r.step, r.lr!]),
  );

beforeAll(async () => {
  // a spec of our own (outside specs/), so a case can edit it; a train record every step
  dir = tempFiles({ "bigram.yaml": readFileSync(join(PROJECT_ROOT, "specs/01-bigram.yaml"), "utf8").replace("eval_interval: 300", "eval_interval: 4") });
  specFile = join(dir, "bigram.yaml");
  fixture = join(dir, "run");
  const r = await runCli(["train", specFile, "--iters", "4", "--set", "training.eval_iters=2", "--out", fixture, "--quiet"]);
  expect(r.code, r.stderr).toBe(0);
});

const copyRun = (): string => {
  const run = join(tempFiles({}), "run");
  cpSync(fixture, run, { recursive: true });
  return run;
};

describe("spec.resolved.yaml is checked against meta.json", () => {
  it("every checkpoint records its sha256", () => {
    expect(readMeta(fixture).files.spec).toBe(sha(readFileSync(join(fixture, "spec.resolved.yaml"))));
  });

  it.concurrent.each([
    ["sample", (run: string) => ["sample", run, "--tokens", "3"]],
    ["eval", (run: string) => ["eval", run]],
    ["attention", (run: string) => ["attention", run, "--prompt", "ab"]],
    ["train --resume", (run: string) => ["train", "--resume", run, "--iters", "8"]],
  ])("an edited description is refused by %s, and nothing is written", async (_name, args) => {
    const run = copyRun();
    const file = join(run, "spec.resolved.yaml");
    const text = readFileSync(file, "utf8").replace(/^description: >-?\n/m, "description: >\n  edited.\n");
    expect(text).not.toBe(readFileSync(file, "utf8"));
    writeFileSync(file, text);
    const before = snapshot(run);
    const r = await runCli(args(run));
    expect(stackLines(r.stderr)).toEqual([]);
    expect(r.stderr).toBe(`error: ${file} does not match its meta.json (sha256 ${sha(text).slice(0, 12)}…, recorded ${readMeta(run).files.spec!.slice(0, 12)}…); the file was changed or damaged, and nothing is built from it\n`);
    expect(r.code).toBe(2);
    expect(snapshot(run)).toEqual(before);
  });

  it.concurrent("a run from before the hash was recorded is checked by its model hash, accepted, and gets the hash at its next checkpoint", async () => {
    const run = copyRun();
    const meta = readMeta(run);
    delete meta.files.spec;
    writeMeta(run, meta);
    // its description is outside the model hash: accepted (escaping keeps it text)
    const file = join(run, "spec.resolved.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace(/^description: >-?\n/m, "description: >\n  an older run.\n"));
    const sampled = await runCli(["sample", run, "--tokens", "3", "--quiet"]);
    expect(sampled.stderr).toBe("");
    expect(sampled.code).toBe(0);
    const resumed = await runCli(["train", "--resume", run, "--iters", "6", "--quiet"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(readMeta(run).files.spec).toBe(sha(readFileSync(file)));
  });

  it.concurrent("an old run whose spec.resolved.yaml describes another model is refused", async () => {
    const run = copyRun();
    const meta = readMeta(run);
    delete meta.files.spec;
    writeMeta(run, meta);
    const file = join(run, "spec.resolved.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace("block_size: 8", "block_size: 16"));
    const r = await runCli(["sample", run, "--tokens", "3"]);
    expect(r.stderr).toMatch(new RegExp(`^error: ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} does not describe the model in ${run}'s checkpoint \\(model sha256 [0-9a-f]{12}… vs [0-9a-f]{12}…\\)\\n$`));
    expect(r.code).toBe(2);
  });
});

describe("--resume trains the run's own spec", () => {
  it.concurrent("a spec file edited since is reported in one line and not used", async () => {
    const run = copyRun();
    const edited = join(tempFiles({}), "bigram.yaml");
    // the run records its spec's path: edit the file it names (a copy of the fixture's spec, as the run was made from)
    cpSync(specFile, edited);
    const meta = JSON.parse(readFileSync(join(run, "meta.json"), "utf8")) as { spec: { path: string } };
    writeFileSync(edited, readFileSync(specFile, "utf8").replace("lr: 1.0", "lr: 0.5"));
    meta.spec.path = edited;
    writeFileSync(join(run, "meta.json"), JSON.stringify(meta, null, 2));
    const r = await runCli(["train", "--resume", run, "--iters", "8", "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split("\n").filter((l) => l.includes("has changed"))).toEqual([
      `${edited} has changed since ${run} started (training.optimizer.lr 1 → 0.5); resuming with the run's own spec, ${run}/spec.resolved.yaml (to change a setting, pass --set: it is recorded)`,
    ]);
    // steps 5 to 8 trained at the recorded rate
    for (const step of [5, 6, 7, 8]) expect(rates(run).get(step)).toBe(1);
  });

  it.concurrent("a --set on resume is used and recorded", async () => {
    const run = copyRun();
    const r = await runCli(["train", "--resume", run, "--iters", "8", "--set", "training.optimizer.lr=0.25", "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("has changed");
    for (const step of [5, 6, 7, 8]) expect(rates(run).get(step)).toBe(0.25);
    expect(readMeta(run).overrides).toEqual(["training.eval_iters=2", "training.max_iters=4", "training.optimizer.lr=0.25", "training.max_iters=8"]);
    // and a later resume keeps it
    const again = await runCli(["train", "--resume", run, "--iters", "10", "--quiet"]);
    expect(again.code, again.stderr).toBe(0);
    expect(rates(run).get(10)).toBe(0.25);
  });
});

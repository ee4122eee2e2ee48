// Commands touch only their own run: checkpoint recovery never follows a link or moves into a run what
// was not written for it, a training never appends through a link, and compile --out decides where it
// writes after resolving links. Each through the real command line, with the other run (or generated/)
// fingerprinted before and after.
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tempFiles } from "../helpers/project.js";
import { PROJECT_ROOT, runCli, snapshot, stackLines } from "./cli.js";

const GENERATED = join(PROJECT_ROOT, "generated");
let bigram: string;
let position: string;

beforeAll(async () => {
  const dir = tempFiles({});
  bigram = join(dir, "bigram");
  position = join(dir, "position");
  const tiny = ["--iters", "3", "--set", "training.eval_iters=1", "--quiet"];
  const [a, b] = await Promise.all([runCli(["train", "specs/01-bigram.yaml", ...tiny, "--out", bigram]), runCli(["train", "specs/02-position.yaml", ...tiny, "--out", position])]);
  expect(a.code, a.stderr).toBe(0);
  expect(b.code, b.stderr).toBe(0);
});

/** Two copies: the run a command is given, and another run beside it. */
function pair(other = bigram): { run: string; other: string } {
  const dir = tempFiles({});
  cpSync(bigram, join(dir, "runA"), { recursive: true });
  cpSync(other, join(dir, "runB"), { recursive: true });
  return { run: join(dir, "runA"), other: join(dir, "runB") };
}

describe("checkpoint recovery stays in its run", () => {
  it.concurrent("a .next that links to another run is removed as a link; sample reads its own checkpoint and the other run is untouched", async () => {
    const { run, other } = pair();
    symlinkSync("../runB", join(run, ".next"));
    const before = snapshot(other);
    const mine = readFileSync(join(run, "meta.json"), "utf8");
    const r = await runCli(["sample", run, "--tokens", "3"]);
    expect(stackLines(r.stderr)).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
    expect(snapshot(other)).toEqual(before);
    expect(readFileSync(join(run, "meta.json"), "utf8")).toBe(mine);
    expect(existsSync(join(run, ".next"))).toBe(false);
  });

  it.concurrent("a .next holding another model's checkpoint is discarded, not promoted", async () => {
    const { run, other } = pair(position);
    mkdirSync(join(run, ".next"));
    for (const f of ["model.safetensors", "optimizer.safetensors", "meta.json"]) cpSync(join(other, f), join(run, ".next", f));
    const mine = snapshot(join(run, "model.safetensors"), join(run, "meta.json"));
    const r = await runCli(["sample", run, "--tokens", "3"]);
    expect(r.code, r.stderr).toBe(0);
    expect(snapshot(join(run, "model.safetensors"), join(run, "meta.json"))).toEqual(mine);
    expect(existsSync(join(run, ".next"))).toBe(false);
  });

  it.concurrent("a .next whose files are links is discarded, not promoted", async () => {
    const { run, other } = pair();
    mkdirSync(join(run, ".next"));
    for (const f of ["model.safetensors", "optimizer.safetensors", "meta.json"]) symlinkSync(join(other, f), join(run, ".next", f));
    const before = snapshot(other);
    const r = await runCli(["sample", run, "--tokens", "3"]);
    expect(r.code, r.stderr).toBe(0);
    expect(snapshot(other)).toEqual(before);
    for (const f of ["model.safetensors", "meta.json"]) expect(lstatSync(join(run, f)).isFile()).toBe(true);
  });
});

describe("a training appends only to its own files", () => {
  it.concurrent("metrics.jsonl linked to another file: --resume refuses in one line and the file is untouched", async () => {
    const { run } = pair();
    const elsewhere = join(tempFiles({ "notes.txt": "mine\n" }), "notes.txt");
    rmSync(join(run, "metrics.jsonl"));
    symlinkSync(elsewhere, join(run, "metrics.jsonl"));
    const r = await runCli(["train", "--resume", run, "--iters", "6", "--quiet"]);
    expect(stackLines(r.stderr)).toEqual([]);
    expect(r.stderr.trimEnd().split("\n").at(-1)).toBe(`error: ${run}/metrics.jsonl is a symbolic link; babygpt writes a run's files in the run itself, never through a link (remove the link and run the command again)`);
    expect(r.code).toBe(2);
    expect(readFileSync(elsewhere, "utf8")).toBe("mine\n");
    expect(readlinkSync(join(run, "metrics.jsonl"))).toBe(elsewhere);
  });
});

describe("compile --out resolves links before it decides where it writes", () => {
  it.concurrent("a folder that links to generated/ is refused like generated/ itself", async () => {
    const dir = tempFiles({ "01-bigram.yaml": readFileSync(join(PROJECT_ROOT, "specs/01-bigram.yaml"), "utf8").replace("block_size: 8", "block_size: 4") });
    symlinkSync(GENERATED, join(dir, "out"));
    const before = snapshot(GENERATED);
    const r = await runCli(["compile", join(dir, "01-bigram.yaml"), "--out", join(dir, "out/01-bigram.ts")]);
    expect(r.stderr).toBe(`--out ${dir}/out/01-bigram.ts: ${dir}/out/01-bigram.ts would be in generated/ (through a link: it lands at ${GENERATED}/01-bigram.ts), which holds only the code of the specs in specs/ and specs/zoo/; compile it elsewhere with --out\n`);
    expect(r.code).toBe(2);
    expect(snapshot(GENERATED)).toEqual(before);
  });
});

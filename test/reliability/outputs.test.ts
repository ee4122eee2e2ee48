// No command overwrites what it did not create. plot replaces only an SVG it wrote (or any file with
// --force, never a run's own); a spec outside specs/ compiles to its own place and leaves generated/ alone;
// a ladder of some steps (--only) writes its report beside its runs, not over docs/ladder.md; runs go
// under the current directory, not the package. (The refusals, one line and no file changed each, are in
// bad-input.test.ts.)
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tempFiles } from "../helpers/project.js";
import { PROJECT_ROOT, runCli, snapshot } from "./cli.js";

const GENERATED = join(PROJECT_ROOT, "generated");
const DOCS = join(PROJECT_ROOT, "docs");
const RUNS = join(PROJECT_ROOT, "runs");
const listing = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : []);
/** The runtime file a model file's import of runtime/nn names, resolved from where the model file is. */
const runtimeOf = (file: string): string => resolve(dirname(file), /from "([^"]+\/runtime\/nn\/index\.js)"/.exec(readFileSync(file, "utf8"))![1]!).replace(/\.js$/, ".ts");

let fixture: string;

beforeAll(async () => {
  fixture = join(tempFiles({}), "run");
  const r = await runCli(["train", "specs/01-bigram.yaml", "--iters", "5", "--set", "training.eval_iters=2", "--out", fixture, "--quiet"]);
  expect(r.code, r.stderr).toBe(0);
});

describe("plot", () => {
  it.concurrent("writes a new --out, replaces an SVG it wrote, and another file only with --force", async () => {
    const dir = tempFiles({ "mine.svg": "<svg>mine</svg>\n" });
    const out = join(dir, "loss.svg");
    for (let i = 0; i < 2; i++) {
      const r = await runCli(["plot", fixture, "--out", out]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`wrote ${out}\n`);
    }
    expect(readFileSync(out, "utf8")).toMatch(/^<!-- Written by babygpt plot from run\/metrics\.jsonl -->\n<svg /);
    // (refused without --force: bad-input.test.ts)
    const forced = await runCli(["plot", fixture, "--out", join(dir, "mine.svg"), "--force"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(join(dir, "mine.svg"), "utf8")).toContain("<svg ");
    // --force never reaches a run's own files
    const checkpoint = readFileSync(join(fixture, "model.safetensors"));
    const never = await runCli(["plot", fixture, "--out", join(fixture, "model.safetensors"), "--force"]);
    expect(never.code).toBe(2);
    expect(readFileSync(join(fixture, "model.safetensors"))).toEqual(checkpoint);
  });
});

describe("compile of a spec outside specs/", () => {
  it.concurrent("writes its code beside it, importing the runtime from there, and leaves generated/ and its index alone", async () => {
    const dir = tempFiles({ "01-bigram.yaml": readFileSync(join(PROJECT_ROOT, "specs/01-bigram.yaml"), "utf8").replace("block_size: 8", "block_size: 4") });
    const before = snapshot(GENERATED);
    const r = await runCli(["compile", join(dir, "01-bigram.yaml")]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`wrote ${dir}/01-bigram.ts\n`);
    expect(snapshot(GENERATED)).toEqual(before);
    expect(readFileSync(join(dir, "01-bigram.ts"), "utf8")).toContain("blockSize: 4");
    expect(existsSync(runtimeOf(join(dir, "01-bigram.ts")))).toBe(true);
    // again: its own file, so replaced (here: already up to date); --check holds it too
    expect((await runCli(["compile", join(dir, "01-bigram.yaml")])).stdout).toBe("the code is up to date (1 files)\n");
    expect((await runCli(["compile", join(dir, "01-bigram.yaml"), "--check"])).code).toBe(0);
    const out = join(dir, "elsewhere", "bigram4.ts");
    mkdirSync(dirname(out));
    const moved = await runCli(["compile", join(dir, "01-bigram.yaml"), "--out", out]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(runtimeOf(out)).toBe(join(PROJECT_ROOT, "runtime/nn/index.ts"));
    expect(snapshot(GENERATED)).toEqual(before);
  });
});

describe("ladder --only", () => {
  it.concurrent("writes its report beside its runs and says where, leaving docs/ladder.md alone", async () => {
    const cwd = tempFiles({});
    const before = snapshot(DOCS);
    const r = await runCli(["ladder", "--only", "bigram", "--iters-scale", "0.001"], {}, { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(snapshot(DOCS)).toEqual(before);
    expect(r.stdout).toContain("wrote the report of 1 step to runs/ladder/report/ladder.md (--only leaves docs/ladder.md alone; run the whole ladder to update it)");
    const report = readFileSync(join(cwd, "runs/ladder/report/ladder.md"), "utf8");
    expect(report).toMatch(/^<!-- Written by `npx babygpt ladder --only bigram --iters-scale 0\.001`/);
    expect(existsSync(join(cwd, "runs/ladder/report/ladder/bigram.svg"))).toBe(true);
  });
});

describe("runs/", () => {
  it.concurrent("goes under the current directory, not the package's", async () => {
    const cwd = tempFiles({});
    const before = listing(RUNS);
    const r = await runCli(["train", join(PROJECT_ROOT, "specs/01-bigram.yaml"), "--iters", "2", "--set", "training.eval_iters=1", "--quiet"], {}, { cwd });
    expect(r.code, r.stderr).toBe(0);
    const made = listing(join(cwd, "runs"));
    expect(made).toHaveLength(1);
    expect(made[0]).toMatch(/^bigram-\d{8}-\d{6}$/);
    expect(r.stdout).toContain(`checkpoint in ${join(cwd, "runs", made[0]!)}`);
    expect(listing(RUNS)).toEqual(before);
  });
});

// a file written by a user beside a spec is theirs: compile refuses it (bad-input.test.ts), --force replaces it
describe("compile --force", () => {
  it.concurrent("replaces a file beside the spec that babygpt did not generate", async () => {
    const dir = tempFiles({ "01-bigram.yaml": readFileSync(join(PROJECT_ROOT, "specs/01-bigram.yaml"), "utf8"), "01-bigram.ts": "// mine\n" });
    const r = await runCli(["compile", join(dir, "01-bigram.yaml"), "--force"]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "01-bigram.ts"), "utf8")).toMatch(/^\/\/ Code generated by babygpt/);
  });
});

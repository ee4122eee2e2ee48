// The model cache is private. `sample` and `eval` import model code emitted for the run from a cache of
// content-addressed files; that cache is under the user's own cache directory (created 0700), never the
// shared temporary directory, a file whose content does not hash to its name is never imported, and a
// cache that someone else can write, or that belongs to someone else, is refused in one line.
import { createHash } from "node:crypto";
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tempFiles } from "../helpers/project.js";
import { runCli, snapshot, stackLines } from "./cli.js";

let fixture: string;

beforeAll(async () => {
  fixture = join(tempFiles({}), "run");
  const r = await runCli(["train", "specs/01-bigram.yaml", "--iters", "2", "--set", "training.eval_iters=1", "--out", fixture, "--quiet"]);
  expect(r.code, r.stderr).toBe(0);
});

/** A home of its own for one case: a cache directory and a temporary directory. */
function sandbox(): { env: Record<string, string>; cache: string; tmp: string; models: string; run: string } {
  const root = tempFiles({});
  const cache = join(root, "cache");
  const tmp = join(root, "tmp");
  mkdirSync(tmp);
  const run = join(root, "run");
  cpSync(fixture, run, { recursive: true });
  return { env: { XDG_CACHE_HOME: cache, TMPDIR: tmp }, cache, tmp, models: join(cache, "babygpt", "models"), run };
}

/** Every model file the cache holds, old place (the temporary directory) and new. */
const modelFiles = (s: ReturnType<typeof sandbox>): string[] =>
  [s.models, join(s.tmp, "babygpt-models")].filter(existsSync).flatMap((d) => readdirSync(d).filter((f) => f.endsWith(".mts")).map((f) => join(d, f)));

const sha = (b: Uint8Array | string): string => createHash("sha256").update(b).digest("hex");

describe("the model cache", () => {
  it.concurrent("lives under the user's cache directory, private, with files named by their content's sha256", async () => {
    const s = sandbox();
    const r = await runCli(["sample", s.run, "--tokens", "5"], s.env);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(s.tmp, "babygpt-models"))).toBe(false);
    expect(statSync(s.models).mode & 0o777).toBe(0o700);
    const files = modelFiles(s);
    expect(files).toHaveLength(1);
    expect(files[0]).toBe(join(s.models, `${sha(readFileSync(files[0]!))}.mts`));
  });

  it.concurrent("never imports a file whose content does not match its name", async () => {
    const s = sandbox();
    expect((await runCli(["sample", s.run, "--tokens", "5"], s.env)).code).toBe(0);
    const marker = join(s.tmp, "planted-code-ran");
    const planted = `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "yes");\nexport const createModel = () => { throw new Error("planted"); };\n`;
    const files = modelFiles(s);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) writeFileSync(f, planted);
    const r = await runCli(["sample", s.run, "--tokens", "5"], s.env);
    expect(existsSync(marker)).toBe(false);
    expect(r.code, r.stderr).toBe(0);
    for (const f of modelFiles(s)) expect(f.endsWith(`${sha(readFileSync(f))}.mts`)).toBe(true);
  });

  it.concurrent("is refused when other users can write to it", async () => {
    const s = sandbox();
    mkdirSync(s.models, { recursive: true });
    chmodSync(s.models, 0o777);
    const before = snapshot(s.run, s.cache);
    const r = await runCli(["sample", s.run, "--tokens", "5"], s.env);
    expect(r.code).toBe(2);
    expect(stackLines(r.stderr)).toEqual([]);
    expect(r.stderr).toBe(
      `error: the model cache ${s.models} is unsafe: ${s.models} is writable by other users (mode 0777); babygpt imports code from it only when no one else can change it (chmod 700 ${s.models}, or set XDG_CACHE_HOME to a folder of your own)\n`,
    );
    expect(snapshot(s.run, s.cache)).toEqual(before);
  });

  it.skipIf(process.getuid?.() !== 0)("is refused when it belongs to another user (run as root, to hand it to nobody)", async () => {
    const s = sandbox();
    mkdirSync(s.models, { recursive: true, mode: 0o700 });
    chownSync(s.models, 65534, 65534);
    const r = await runCli(["sample", s.run, "--tokens", "5"], s.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error: the model cache ${s.models} is unsafe: ${s.models} belongs to another user (uid 65534); babygpt imports code from it only when no one else can change it (set XDG_CACHE_HOME to a folder of your own)\n`,
    );
  });
});

// A partial benchmark writes its own results file and nothing else: the committed README's performance
// summary and docs/bench.md quote the full default run (or a file given to --render), never a run of some
// configs, some backends, no PyTorch, another budget or another results folder.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT, tempFiles } from "../helpers/project.js";

const sha = (file: string): string => createHash("sha256").update(readFileSync(file)).digest("hex");

describe("a partial bench", () => {
  it("(--only bigram --backends wasm --no-torch --budget 5 --results DIR) leaves README.md and docs/bench.md alone", () => {
    const docs = [join(PROJECT_ROOT, "README.md"), join(PROJECT_ROOT, "docs/bench.md")];
    const before = docs.map(sha);
    const dir = tempFiles({});
    const r = spawnSync(process.execPath, ["bin/babygpt.mjs", "bench", "--only", "bigram", "--backends", "wasm", "--no-torch", "--budget", "5", "--results", dir], { cwd: PROJECT_ROOT, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const [file] = readdirSync(dir);
    expect(file).toMatch(/^\d{4}-\d{2}-\d{2}\.json$/);
    expect(r.stdout).toContain(`docs/bench.md and the README's summary are left as they are: this run is partial (--only, --backends, --no-torch, --budget, --results); \`npx babygpt bench --render ${join(dir, file!)}\` writes them from it`);
    expect(docs.map(sha)).toEqual(before);
  });
});

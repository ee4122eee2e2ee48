// `babygpt attention` through the real command line, on a run the test trains for a few steps: a map per
// layer and head with the prompt's characters as labels, the --layer/--head filter, and the refusal to
// overwrite a file the command did not write (unless --force).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tempFiles } from "../helpers/project.js";
import { runCli, snapshot } from "../reliability/cli.js";

let dir: string;
let run: string;

beforeAll(async () => {
  dir = tempFiles({});
  run = join(dir, "run");
  // Three blocks of four heads (specs/07-blocks.yaml), trained 3 steps: enough for a real checkpoint.
  const r = await runCli(["train", "specs/07-blocks.yaml", "--iters", "3", "--set", "training.eval_iters=1", "--out", run, "--quiet"]);
  expect(r.code, r.stderr).toBe(0);
});

describe("babygpt attention", () => {
  it("writes one SVG per layer and head of the prompt's tokens, and an index.html grid of them", async () => {
    const r = await runCli(["attention", run, "--prompt", "ROMEO:"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = join(run, "attention");
    expect(r.stdout).toContain(`wrote 12 maps (3 layers, 6 tokens) and index.html to ${out}`);
    const svgs = readdirSync(out).filter((f) => f.endsWith(".svg")).sort();
    expect(svgs).toEqual([0, 1, 2].flatMap((b) => [0, 1, 2, 3].map((h) => `blocks.${b}.attn-h${h}.svg`)));
    const svg = readFileSync(join(out, "blocks.2.attn-h3.svg"), "utf8");
    for (const label of ["R", "O", "M", "E", ":"]) expect(svg).toContain(`>${label}</text>`);
    expect(svg.match(/<rect [^>]*fill="rgb/g)).toHaveLength(21); // 6 query rows, each reading itself and the ones before
    const html = readFileSync(join(out, "index.html"), "utf8");
    for (const f of svgs) expect(html).toContain(`src="${f}"`);

    // Again with a filter, into the same folder: it rewrites its own files, and the grid shows the one map.
    const again = await runCli(["attention", run, "--prompt", "ROMEO:", "--layer", "blocks.1.attn", "--head", "2"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("wrote 1 map (1 layer, 6 tokens)");
    expect(readFileSync(join(out, "index.html"), "utf8").match(/<img /g)).toHaveLength(1);
  });

  it("refuses to overwrite a file it did not write, and names unknown layers", async () => {
    const out = join(dir, "mine");
    mkdirSync(out);
    writeFileSync(join(out, "index.html"), "my own page");
    const before = snapshot(out);
    const r = await runCli(["attention", run, "--prompt", "ROMEO:", "--out", out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`error: ${join(out, "index.html")} exists and was not written by babygpt attention; choose another path, or pass --force to replace it`);
    expect(snapshot(out)).toEqual(before);
    const forced = await runCli(["attention", run, "--prompt", "ROMEO:", "--out", out, "--force", "--head", "0"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(join(out, "index.html"), "utf8")).toContain("blocks.2.attn-h0.svg");

    const bad = await runCli(["attention", run, "--prompt", "ROMEO:", "--layer", "attn", "--out", join(dir, "other")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe("error: --layer attn: blocks's attention layers are blocks.0.attn, blocks.1.attn, blocks.2.attn");
    expect(existsSync(join(dir, "other"))).toBe(false);
  });
});

// The zoo's report: the distinctive lines of a spec against its baseline, and docs/zoo.md with its chart
// rendered from a results file alone (`babygpt zoo --render`), which refuses a file that is not one and
// a zoo.md it did not write.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { distinctiveLines } from "../../runtime/zoo/distinctive.js";
import { ZOO_FORMAT, type ZooEntry, type ZooResults } from "../../runtime/zoo/results.js";
import { PROJECT_ROOT, tempFiles } from "../helpers/project.js";
import { runCli } from "../reliability/cli.js";

const spec = (name: string): string => join(PROJECT_ROOT, "specs/zoo", `${name}.yaml`);

describe("distinctive lines", () => {
  it("are what a spec says that its baseline does not, as written, without names, labels or structure", () => {
    const gemma = distinctiveLines(spec("gemma2"), spec("gpt2"));
    expect(gemma).toEqual(expect.arrayContaining(["define: local_layer", "define: global_layer", "window: 16", "softcap: 50", "logit_softcap: 30", "scale: sqrt", "kv_heads: 2", "rope: true", "gated: true"]));
    expect(gemma.filter((l) => /^(name|body|layers|times):|^[&*]/.test(l))).toEqual([]);
    expect(new Set(gemma).size).toBe(gemma.length);
    // lines GPT-2's spec has too are not distinctive
    expect(gemma).not.toContain("kind: token_embedding");
    expect(gemma).not.toContain("out: vocab");
    expect(distinctiveLines(spec("modded-nanogpt"), spec("gpt2"))).toEqual(expect.arrayContaining(["kind: save", "kind: add", "learned: true", "zero_init: true", "activation: relu2", "qk_norm: rms_norm"]));
    expect(distinctiveLines(spec("gpt2"), spec("gpt2"))).toEqual([]);
  });
});

const entry = (name: string, valLoss: number, curve: readonly number[]): ZooEntry => ({
  name,
  spec: `specs/zoo/${name}.yaml`,
  description: `${name} described.`,
  distinctive: ["rope: true", "window: 16"],
  baseline: "specs/zoo/gpt2.yaml",
  params: 123_456,
  flopsPerToken: 456_789,
  iters: 200,
  tokensPerSec: 12_345.6,
  msPerIter: 80,
  wallSeconds: 95,
  trainLoss: valLoss - 0.01,
  valLoss,
  curve: curve.map((val, i) => ({ step: i * 100, train: val, val })),
  sample: "ROMEO:\nwhat ```fences``` do",
  load: { start: 3.21, end: 4.56 },
  date: "2026-12-07",
  machine: "Test CPU, 2 cores",
  specSha256: "0".repeat(64),
});

const results: ZooResults = {
  format: ZOO_FORMAT,
  command: "npx babygpt zoo --iters 200",
  date: "2026-12-07",
  machine: "Test CPU, 2 cores",
  cores: 2,
  backend: "native",
  budget: { iters: 200, batchSize: 16, blockSize: 64, optimizer: "adamw lr 0.002", schedule: "constant" },
  entries: [entry("slow-one", 2.5, [4.2, 3.1, 2.5]), entry("fast-one", 2.25, [4.2, 2.9, 2.25])],
};

describe("babygpt zoo --render", () => {
  it("writes zoo.md and zoo.svg from the results alone, best val loss first, every figure from the file", { timeout: 60_000 }, async () => {
    const dir = tempFiles({ "zoo.json": `${JSON.stringify(results, null, 2)}\n` });
    const r = await runCli(["zoo", "--render", join(dir, "zoo.json"), "--report-dir", dir]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const md = readFileSync(join(dir, "zoo.md"), "utf8");
    const rows = md.split("\n").filter((l) => l.startsWith("| [")).map((l) => l.split(" | ").map((c) => c.trim()));
    expect(rows.map((c) => c[0])).toEqual(["| [fast-one](#fast-one)", "| [slow-one](#slow-one)"]);
    expect(rows[0]!.slice(1)).toEqual(["123,456", "456.79 KFLOP", "12,346", "3.2 → 4.6", "2.2400", "**2.2500** |"]);
    expect(md).toContain("200 steps of 16 × 64 tokens");
    expect(md).toContain("Command: `npx babygpt zoo --iters 200` · results:");
    expect(md).toContain("Test CPU, 2 cores");
    expect(md).toContain("Distinctive lines: `rope: true` · `window: 16`");
    expect(md).toContain("` ` `fences` ` `"); // a sample cannot close its code block
    const svg = readFileSync(join(dir, "zoo.svg"), "utf8");
    for (const name of ["fast-one", "slow-one"]) expect(svg).toContain(`>${name}</text>`);
    expect(svg.match(/<path /g)).toHaveLength(2);
  });

  it("names each command with the architectures it trained, when entries came from more than one", { timeout: 60_000 }, async () => {
    const mixed = { ...results, entries: [{ ...results.entries[0]!, command: "npx babygpt zoo --only slow-one" }, results.entries[1]!] };
    const dir = tempFiles({ "zoo.json": JSON.stringify(mixed) });
    const r = await runCli(["zoo", "--render", join(dir, "zoo.json"), "--report-dir", dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "zoo.md"), "utf8")).toContain("Commands: `npx babygpt zoo --only slow-one` (slow-one); `npx babygpt zoo --iters 200` (fast-one) · results:");
  });

  it("refuses a file that is not zoo results, and a zoo.md it did not write, in one line (exit 2)", { timeout: 60_000 }, async () => {
    const dir = tempFiles({ "other.json": '{"steps": {}}\n', "zoo.json": JSON.stringify(results), "zoo.md": "# my notes\n" });
    const bad = await runCli(["zoo", "--render", join(dir, "other.json"), "--report-dir", dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(`error: ${join(dir, "other.json")}: not a zoo results file (it has no "format": "${ZOO_FORMAT}"); \`babygpt zoo\` writes one`);
    const mine = await runCli(["zoo", "--render", join(dir, "zoo.json"), "--report-dir", dir]);
    expect(mine.code).toBe(2);
    expect(mine.stderr.trim().split("\n")).toHaveLength(1);
    expect(readFileSync(join(dir, "zoo.md"), "utf8")).toBe("# my notes\n");
    expect(existsSync(join(dir, "zoo.svg"))).toBe(false);
  });
});

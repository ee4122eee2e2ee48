// A spec never runs code: the three ways found to make babygpt run what a spec or a path says, each through
// the real command line, each with a payload that writes a marker file if it runs. With the strings
// escaped (compiler/text/), the commands work and no marker appears.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { tempFiles } from "../helpers/project.js";
import { runCli, stackLines } from "./cli.js";

const BIGRAM = { block_size: 8, layers: [{ kind: "token_embedding", dim: "vocab" }] };
const TINY = ["--iters", "1", "--set", "training.eval_iters=1", "--quiet"];
/** Runs at module evaluation, synchronously: writes the file $BGM names (a short name: a long line would be wrapped apart). */
const JS_PAYLOAD = 'process.getBuiltinModule("fs").writeFileSync(process.env.BGM, "ran")';

describe("a spec's strings and paths never run as code", () => {
  it.concurrent("a description that closes the doc comment stays a comment in train and sample", async () => {
    const dir = tempFiles({});
    const mark = join(dir, "ran");
    writeFileSync(join(dir, "s.yaml"), stringify({ name: "desc", description: `*/ class E {} ${JS_PAYLOAD}; /**`, model: BIGRAM }));
    const env = { BGM: mark };
    const trained = await runCli(["train", join(dir, "s.yaml"), ...TINY, "--out", join(dir, "run")], env);
    expect(existsSync(mark), "the payload ran in train").toBe(false);
    expect(stackLines(trained.stderr)).toEqual([]);
    expect(trained.code).toBe(0);
    const sampled = await runCli(["sample", join(dir, "run"), "--tokens", "3"], env);
    expect(sampled.code).toBe(0);
    expect(existsSync(mark)).toBe(false);
    // the run's own copy of the code shows the text, escaped
    expect(readFileSync(join(dir, "run/model.ts"), "utf8")).toContain(`/** desc: *\\/ class E {} ${JS_PAYLOAD}; /** */`);
  });

  it.concurrent("a newline in a directory name does not end the generated header's comment", async () => {
    const root = tempFiles({});
    const mark = join(root, "ran");
    // The path becomes "…/x\n<payload>;\n/*s.yaml": unescaped, its second line runs and its third opens a
    // block comment that swallows the imports up to the first doc comment.
    const dir = join(root, `x\n${JS_PAYLOAD};\n`);
    mkdirSync(dir);
    writeFileSync(join(dir, "*s.yaml"), stringify({ name: "newline", model: BIGRAM }));
    const r = await runCli(["train", join(dir, "*s.yaml"), ...TINY, "--out", join(root, "run")], { BGM: mark });
    expect(existsSync(mark), "the payload ran").toBe(false);
    expect(stackLines(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
    expect(existsSync(mark)).toBe(false);
    expect(readFileSync(join(root, "run/model.ts"), "utf8").split("\n")[0]).toContain("/x\\nprocess.getBuiltinModule");
  });

  it.concurrent("a spec's file name stays a string in the generated Python module", async () => {
    const dir = tempFiles({});
    const name = 'q", "p": __import__("os").system("touch pwned"), "r": "y.yaml';
    writeFileSync(join(dir, name), stringify({ name: "pyname", model: BIGRAM }));
    const r = await runCli(["compile", join(dir, name), "--out", join(dir, "m.ts")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // run the module's META assignment alone (the rest needs torch): it must be data, naming the file
    const py = spawnSync(
      "/usr/bin/python3",
      ["-c", 'import ast, sys\ntree = ast.parse(open("m.py").read())\nmeta = [n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "META"]\nns = {}\nexec(compile(ast.Module(body=meta, type_ignores=[]), "m.py", "exec"), ns)\nprint(ns["META"]["spec"])'],
      { cwd: dir, encoding: "utf8" },
    );
    expect(existsSync(join(dir, "pwned")), "the payload ran").toBe(false);
    expect(py.stderr).toBe("");
    expect(py.stdout.trim()).toBe(join(dir, name));
  });
});

describe("specs whose Python did not run, and a description that was an internal error", () => {
  const spec = (extra: Record<string, unknown>): string => stringify({ name: "edge", model: { block_size: 8, n_embd: 16, layers: [{ kind: "token_embedding" }, { kind: "linear", out: "vocab" }] }, ...extra });

  it.concurrent.each([
    ["a description ending in a quote", 'it says "hi"'],
    ["a description of only a comment closer", "only */ closer"],
    ["a description holding a docstring's quotes", 'three """ quotes and a backslash \\'],
  ])("%s compiles to TypeScript that parses and Python that compiles", async (_name, description) => {
    const dir = tempFiles({ "s.yaml": spec({ description }) });
    const r = await runCli(["compile", join(dir, "s.yaml")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const py = spawnSync("/usr/bin/python3", ["-c", 'import ast, sys\nt = ast.parse(open(sys.argv[1]).read())\nprint(ast.get_docstring([n for n in t.body if isinstance(n, ast.ClassDef)][-1], clean=False))', join(dir, "s.py")], { encoding: "utf8" });
    expect(py.stderr).toBe("");
    expect(py.stdout.trimEnd()).toBe(`edge: ${description}`);
  });

  it.concurrent("a NUL in a description is refused at its line", async () => {
    const dir = tempFiles({ "s.yaml": spec({ description: "a\u0000b" }) });
    const r = await runCli(["compile", join(dir, "s.yaml")]);
    expect(r.stderr.split("\n")[0]).toBe(`${dir}/s.yaml:9:14: the description holds the control character U+0000 (at character 2); a description is prose: tabs and line breaks are fine, other control characters are not`);
    expect(r.code).toBe(2);
    expect(existsSync(join(dir, "s.py"))).toBe(false);
  });

  it.concurrent("a block class named F is refused at its line", async () => {
    const dir = tempFiles({ "s.yaml": stringify({ name: "edge", model: { block_size: 8, n_embd: 16, layers: [{ kind: "token_embedding" }, { kind: "block", class: "F", body: [{ kind: "layer_norm" }] }, { kind: "linear", out: "vocab" }] } }) });
    const r = await runCli(["compile", join(dir, "s.yaml")]);
    expect(r.stderr.split("\n")[0]).toBe(`${dir}/s.yaml:8:14: a block class named F would clash with a name the generated PyTorch module already uses (torch.nn.functional as F); choose another class name`);
    expect(r.code).toBe(2);
  });
});

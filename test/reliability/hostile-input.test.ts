// The smaller findings of the third reliability round (issue 22), through the real command line as
// bad-input.test.ts does it: each exits 2 with one message that names what and where, prints no stack
// trace, and changes no file (the case's directory and generated/ are fingerprinted before and after).
// Hand-made run files (a tokenizer that does not fit the model, an optimizer file that lacks a moment, I32
// or NaN weights) keep meta.json's hashes consistent, so it is the new check that refuses them.
import { createHash } from "node:crypto";
import { cpSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { lowerSpec } from "../../compiler/ir/lower.js";
import { loadSpec } from "../../compiler/spec/load.js";
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from "../../runtime/checkpoint/safetensors.js";
import { tempFiles } from "../helpers/project.js";
import { PROJECT_ROOT, runCli, stackLines } from "./cli.js";
import { expectRefused, type RefusalCase } from "./refusal.js";

const sha = (b: Uint8Array | string): string => createHash("sha256").update(b).digest("hex");
const bytes = (tensors: Map<string, NamedTensor>): Buffer => Buffer.concat(encodeSafetensors(tensors));
type Meta = Record<string, any>;
const editMeta = (run: string, edit: (meta: Meta) => void): void => {
  const meta = JSON.parse(readFileSync(join(run, "meta.json"), "utf8")) as Meta;
  edit(meta);
  writeFileSync(join(run, "meta.json"), JSON.stringify(meta, null, 2));
};
/** Rewrites one of the run's tensor files through `edit`, and meta.json's hash of it. */
const editTensors = (run: string, file: "model" | "optimizer", edit: (t: Map<string, NamedTensor>) => void): void => {
  const path = join(run, `${file}.safetensors`);
  const tensors = decodeSafetensors(readFileSync(path), path).tensors;
  edit(tensors);
  const b = bytes(tensors);
  writeFileSync(path, b);
  editMeta(run, (m) => (m["files"][file] = sha(b)));
};

const cases: RefusalCase[] = [
  {
    name: "--set __proto__.x=1",
    setup: (d) => ["train", "specs/01-bigram.yaml", "--set", "__proto__.x=1", "--out", join(d, "out")],
    want: '--set __proto__.x=1: "__proto__" is not a key of a spec',
  },
  {
    name: "a recorded override of __proto__ in meta.json",
    setup: (_d, run) => (editMeta(run, (m) => m["overrides"].push("training.__proto__.polluted=1")), ["train", "--resume", run, "--iters", "10"]),
    want: '--set training.__proto__.polluted=1: "__proto__" is not a key of a spec',
  },
  {
    // a spec's own "__proto__" key through an extends merge: a key, refused, not the merged object's prototype
    name: "a __proto__ key in a spec that extends another",
    setup: (d) => (writeFileSync(join(d, "a.yaml"), `extends: ${join(PROJECT_ROOT, "specs/01-bigram.yaml")}\nname: a\n__proto__:\n  polluted: 1\n`), ["inspect", join(d, "a.yaml")]),
    want: (d) => `${d}/a.yaml:3:1: unknown key "__proto__" in the spec`,
    quote: ["  __proto__:", "  ^"],
  },
  {
    name: "a tokenizer in meta.json that does not fit the model's vocabulary",
    setup: (_d, run) => (editMeta(run, (m) => (m["tokenizer"] = { kind: "char", chars: "ab" })), ["sample", run, "--tokens", "5"]),
    want: (d) => `error: ${d}/run/meta.json is damaged: its tokenizer has 2 tokens, but vocabSize says 65`,
  },
  {
    name: "a vocabSize of 2^40 in meta.json",
    setup: (_d, run) => (editMeta(run, (m) => (m["vocabSize"] = 2 ** 40)), ["sample", run, "--tokens", "5"]),
    want: (d) => `error: ${d}/run/meta.json is damaged: its tokenizer has 65 tokens, but vocabSize says 1099511627776`,
  },
  {
    name: "a tokenizer that does not fit, on resume",
    setup: (_d, run) => (editMeta(run, (m) => (m["tokenizer"] = { kind: "char", chars: "ab" })), ["train", "--resume", run, "--iters", "10"]),
    want: (d) => `error: ${d}/run/meta.json is damaged: its tokenizer has 2 tokens, but vocabSize says 65`,
  },
  {
    name: "an optimizer file that lacks a moment",
    setup: (_d, run) => (editTensors(run, "optimizer", (t) => t.delete("token_embedding.weight.exp_avg_sq")), ["train", "--resume", run, "--iters", "10"]),
    want: (d) => `error: ${d}/run/optimizer.safetensors does not fit this model's optimizer: it lacks token_embedding.weight.exp_avg_sq, which a run at step 5 has`,
    logsFirst: true,
  },
  {
    name: "I32 weights where F32 are expected",
    setup: (_d, run) =>
      (
        editTensors(run, "model", (t) => {
          const w = t.get("token_embedding.weight")!;
          t.set("token_embedding.weight", { dtype: "I32", shape: w.shape, data: new Int32Array(w.data.length) });
        }),
        ["sample", run, "--tokens", "5"]
      ),
    want: (d) => `error: ${d}/run/model.safetensors: token_embedding.weight is I32, where the model's parameters are F32`,
  },
  {
    name: "NaN weights",
    setup: (_d, run) =>
      (
        editTensors(run, "model", (t) => {
          const w = t.get("token_embedding.weight")!;
          const data = Float32Array.from(w.data);
          data[7] = NaN;
          t.set("token_embedding.weight", { dtype: "F32", shape: w.shape, data });
        }),
        ["sample", run, "--tokens", "5"]
      ),
    want: (d) => `error: ${d}/run/model.safetensors: token_embedding.weight holds NaN (at index 7); a model with non-finite weights cannot be used (did the run diverge?)`,
  },
  {
    name: "eval on a text whose split holds no window",
    setup: (d, run) => (writeFileSync(join(d, "tiny.txt"), "To be, or not to be, that is the question.\n"), ["eval", run, "--data", join(d, "tiny.txt"), "--other-data"]),
    want: (d) => `error: the val split of ${d}/tiny.txt has 5 tokens, fewer than one window of block_size + 1 = 9, so there is nothing to evaluate; use a longer text`,
    logsFirst: true,
  },
  {
    name: "a spec file of 5 MiB",
    setup: (d) => (writeFileSync(join(d, "big.yaml"), `name: big\n${"# padding\n".repeat(5 * 2 ** 20 / 10)}`), ["inspect", join(d, "big.yaml")]),
    want: (d) => `${d}/big.yaml: is 5.0 MiB, more than a spec can be (at most 4 MiB of YAML)`,
  },
  {
    name: "extends of a file that is not a spec (/etc/shadow): none of its lines is shown",
    setup: (d) => (writeFileSync(join(d, "a.yaml"), "extends: /etc/shadow\nname: a\n"), ["inspect", join(d, "a.yaml")]),
    want: (d) => `${d}/a.yaml:1:10: extends /etc/shadow, which is not a spec (a .yaml or .yml file)`,
    quote: ["  extends: /etc/shadow", "           ^"],
  },
  {
    name: "a seed past 32 bits in the spec",
    setup: (d) => ["train", "specs/01-bigram.yaml", "--set", "training.seed=4294967296", "--out", join(d, "out")],
    want: '--set training.seed=4294967296: "seed" must be <= 4294967295; got 4294967296',
  },
  {
    name: "a sampling seed past 32 bits",
    setup: (_d, run) => ["sample", run, "--seed", "4294967296"],
    want: "error: option '--seed <s>' argument '4294967296' is invalid. --seed must be at most 4294967295, got 4294967296 (see `babygpt sample --help`)",
  },
  {
    name: "ladder --iters-scale 0",
    setup: () => ["ladder", "--iters-scale", "0"],
    want: "error: option '--iters-scale <f>' argument '0' is invalid. --iters-scale must be more than 0, got 0 (see `babygpt ladder --help`)",
  },
  {
    name: "ladder --iters-scale 1e300",
    setup: () => ["ladder", "--iters-scale", "1e300"],
    want: "error: option '--iters-scale <f>' argument '1e300' is invalid. --iters-scale must be at most 100, got 1e300 (see `babygpt ladder --help`)",
  },
  {
    name: "BABYGPT_PYTHON=/bin/true for the torch engine",
    setup: (d) => ["train", "specs/01-bigram.yaml", "--engine", "torch", "--out", join(d, "out")],
    env: () => ({ BABYGPT_PYTHON: "/bin/true" }),
    want: "error: the torch engine needs PyTorch (/bin/true: ran, but did not answer as a Python with torch would (it printed nothing)); install PyTorch for it (Debian: apt-get install python3-torch python3-numpy; elsewhere: pip install torch numpy), or set BABYGPT_PYTHON to a Python that has it",
  },
  {
    name: "a runs folder that is a dangling link",
    setup: (d) => (symlinkSync(join(d, "nowhere"), join(d, "runs")), ["train", join(PROJECT_ROOT, "specs/01-bigram.yaml"), "--iters", "1"]),
    cwd: (d) => d,
    want: (d) => `error: ${d}/runs (where runs go unless --out says otherwise) is a symbolic link to ${d}/nowhere, which does not exist; create that folder or remove the link`,
  },
  {
    name: "XDG_CACHE_HOME=/proc (it used to spin, deaf to Ctrl-C)",
    setup: (d) => (writeFileSync(join(d, "s.yaml"), readFileSync(join(PROJECT_ROOT, "specs/01-bigram.yaml"))), ["train", join(d, "s.yaml"), "--iters", "1", "--out", join(d, "out")]),
    env: () => ({ XDG_CACHE_HOME: "/proc" }),
    want: "error: cannot create the token cache /proc/babygpt/tokens (ENOENT); set XDG_CACHE_HOME to a folder of your own",
  },
];

let fixture: string;

beforeAll(async () => {
  // AdamW, so the optimizer file holds moments
  fixture = join(tempFiles({}), "run");
  const r = await runCli(["train", "specs/01-bigram.yaml", "--iters", "5", "--set", "training.eval_iters=2", "--set", "training.optimizer.type=adamw", "--set", "training.optimizer.lr=0.01", "--out", fixture, "--quiet"]);
  expect(r.code, r.stderr).toBe(0);
});

describe("hostile input through the CLI: exit 2, one message, no stack trace, no file changed", () => {
  it.concurrent.each(cases)("$name", (c) => expectRefused(c, fixture));
});

describe("sample and eval check memory as train does", () => {
  it.concurrent("a run of a model too large for this machine is refused before anything is allocated", async () => {
    const dir = tempFiles({});
    const run = join(dir, "run");
    cpSync(fixture, run, { recursive: true });
    // the run's spec made huge, with meta.json's model and spec hashes to match: a consistent hand-made run
    const huge = join(dir, "huge.yaml");
    writeFileSync(huge, `extends: ${join(PROJECT_ROOT, "specs/02-position.yaml")}\nname: huge\nmodel:\n  n_embd: 1000000000\n`);
    const resolved = await runCli(["resolve", huge]);
    expect(resolved.code, resolved.stderr).toBe(0);
    writeFileSync(join(run, "spec.resolved.yaml"), resolved.stdout);
    const modelHash = lowerSpec(loadSpec(join(run, "spec.resolved.yaml"))).modelHash;
    editMeta(run, (m) => {
      m["spec"].modelHash = modelHash;
      m["files"].spec = sha(resolved.stdout);
    });
    const needs: number[] = [];
    for (const [args, verb] of [
      [["sample", run, "--tokens", "3"], "sample from it \\(weights and activations at 1 window a pass\\)"],
      [["eval", run], "evaluate it \\(weights and activations at 64 windows a pass\\)"],
    ] as const) {
      const r = await runCli([...args]);
      expect(stackLines(r.stderr)).toEqual([]);
      const m = new RegExp(`^error: ${run}: this model needs about ([\\d.]+) (GiB|TiB) to ${verb}, more than this machine's [\\d.]+ GiB(; try a smaller --batch)?\n$`).exec(r.stderr);
      expect(m, r.stderr).not.toBeNull();
      expect(r.code).toBe(2);
      needs.push(Number(m![1]) * (m![2] === "TiB" ? 1024 : 1));
    }
    // (65 + 8 + 65)·1e9 weights of 4 bytes, and activations: at one window they at most double it, at 64 they add more
    const weights = (138e9 * 4) / 2 ** 30;
    expect(needs[0]).toBeGreaterThanOrEqual(weights);
    expect(needs[0]).toBeLessThan(2 * weights);
    expect(needs[1]).toBeGreaterThan(needs[0]!);
  });
});

describe("a run's path is text in the files plot and attention write, never markup", () => {
  it.concurrent("a run named r--><svg onload=…> gives a loss.svg and an index.html with no live element from it", async () => {
    const dir = tempFiles({});
    const run = join(dir, 'r--><svg onload="alert(1)">');
    const trained = await runCli(["train", "specs/04-single-head.yaml", "--iters", "2", "--set", "training.eval_iters=1", "--out", run, "--quiet"]);
    expect(trained.code, trained.stderr).toBe(0);
    const plotted = await runCli(["plot", run]);
    expect(plotted.code, plotted.stderr).toBe(0);
    const drawn = await runCli(["attention", run, "--prompt", "ab--", "--out", join(dir, "att")]);
    expect(drawn.code, drawn.stderr).toBe(0);
    for (const file of [join(run, "loss.svg"), join(dir, "att/index.html")]) {
      const text = readFileSync(file, "utf8");
      // the marker comment is closed once, by its own -->: the name (and the prompt's --) stay inside it
      const parts = text.split("-->");
      expect(parts, file).toHaveLength(2);
      expect(parts[0]).toMatch(/^<!doctype html>\n<!-- |^<!-- /);
      expect(parts[1], file).not.toContain("<svg onload");
    }
    // where the plot shows the name, it is text
    expect(readFileSync(join(run, "loss.svg"), "utf8").split("-->")[1]).toContain("r--&gt;&lt;svg onload=");
  });
});

// Bad input through the real command line: broken specs, odd data, damaged checkpoints and mistyped
// commands. Each must exit 2 with one message that says what is wrong and where, print no stack trace,
// and change no file (the case's directory and generated/ are fingerprinted before and after).
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeSafetensors, type NamedTensor } from "../../runtime/checkpoint/safetensors.js";
import { tempFiles } from "../helpers/project.js";
import { PROJECT_ROOT, runCli, snapshot, stackLines } from "./cli.js";
import { expectRefused, type RefusalCase } from "./refusal.js";

const GENERATED = join(PROJECT_ROOT, "generated");
const POSITION = join(PROJECT_ROOT, "specs/02-position.yaml");
const HEAD = "name: t\nmodel:\n  block_size: 8\n  n_embd: 32\n";
const LAYERS = "  layers:\n    - kind: token_embedding\n    - kind: position_embedding\n    - kind: linear\n      out: vocab\n";

const bytes = (chunks: Uint8Array[]): Buffer => Buffer.concat(chunks);
const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");
const editMeta = (run: string, edit: (meta: Record<string, any>) => void): void => {
  const meta = JSON.parse(readFileSync(join(run, "meta.json"), "utf8")) as Record<string, any>;
  edit(meta);
  writeFileSync(join(run, "meta.json"), JSON.stringify(meta, null, 2));
};
const foreign = (): Buffer => bytes(encodeSafetensors(new Map<string, NamedTensor>([["wte", { dtype: "F32", shape: [4, 4], data: new Float32Array(16) }]])));

const cases: RefusalCase[] = [
  // specs
  {
    name: "a YAML syntax error",
    setup: (d) => (writeFileSync(join(d, "a.yaml"), "name: t\nmodel: {block_size: 8\n"), ["train", join(d, "a.yaml"), "--out", join(d, "out")]),
    want: (d) => `${d}/a.yaml:3:1: YAML syntax error: Flow map in block collection must be sufficiently indented and end with a }`,
    quote: ["  ", "  ^"],
  },
  {
    name: "a value of the wrong type",
    setup: (d) => (writeFileSync(join(d, "a.yaml"), `name: t\nmodel:\n  block_size: eight\n  n_embd: 32\n${LAYERS}`), ["train", join(d, "a.yaml"), "--out", join(d, "out")]),
    want: (d) => `${d}/a.yaml:3:15: "block_size" must be an integer; got "eight"`,
    quote: ["    block_size: eight", "                ^"],
  },
  {
    name: "an unknown key",
    setup: (d) => (writeFileSync(join(d, "a.yaml"), `${HEAD}${LAYERS}trainig:\n  batch_size: 4\n`), ["train", join(d, "a.yaml"), "--out", join(d, "out")]),
    want: (d) => `${d}/a.yaml:10:1: unknown key "trainig" in the spec; did you mean "training"?`,
    quote: ["  trainig:", "  ^"],
  },
  {
    name: "an impossible shape",
    setup: (d) => (
      writeFileSync(join(d, "a.yaml"), `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: multi_head_attention\n      heads: 5\n    - kind: linear\n      out: vocab\n`),
      ["train", join(d, "a.yaml"), "--out", join(d, "out")]
    ),
    want: (d) => `${d}/a.yaml:8:14: input width 32 is not divisible by 5 heads; choose heads that divide it or set head_size`,
    quote: ["        heads: 5", "               ^"],
  },
  {
    name: "an extends cycle",
    setup: (d) => (writeFileSync(join(d, "a.yaml"), "extends: b.yaml\nname: a\n"), writeFileSync(join(d, "b.yaml"), "extends: a.yaml\nname: b\n"), ["train", join(d, "a.yaml"), "--out", join(d, "out")]),
    want: (d) => `${d}/b.yaml:1:10: extends cycle: ${d}/a.yaml → ${d}/b.yaml → ${d}/a.yaml`,
    quote: ["  extends: a.yaml", "           ^"],
  },
  {
    name: "extends of a missing file",
    setup: (d) => (writeFileSync(join(d, "a.yaml"), "extends: nope.yaml\nname: a\n"), ["train", join(d, "a.yaml"), "--out", join(d, "out")]),
    want: (d) => `${d}/a.yaml:1:10: extends a spec that does not exist: ${d}/nope.yaml`,
    quote: ["  extends: nope.yaml", "           ^"],
  },
  {
    name: "a spec file that does not exist",
    setup: (d) => ["train", join(d, "nope.yaml"), "--out", join(d, "out")],
    want: (d) => `${d}/nope.yaml: spec file not found`,
  },
  // data
  {
    name: "a missing data file",
    setup: (d) => ["train", "specs/01-bigram.yaml", "--data", join(d, "nope.txt"), "--out", join(d, "out")],
    want: (d) => `error: --data ${d}/nope.txt: no such file or directory`,
  },
  {
    name: "an empty data file",
    setup: (d) => (writeFileSync(join(d, "c.txt"), ""), ["train", "specs/01-bigram.yaml", "--data", join(d, "c.txt"), "--out", join(d, "out")]),
    want: (d) => `error: ${d}/c.txt is empty; a corpus needs text to learn from`,
  },
  {
    name: "a binary data file",
    setup: (d) => (writeFileSync(join(d, "c.bin"), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0x3e, 0])), ["train", "specs/01-bigram.yaml", "--data", join(d, "c.bin"), "--out", join(d, "out")]),
    want: (d) => `error: ${d}/c.bin looks binary (it contains NUL bytes); a corpus must be UTF-8 text`,
  },
  {
    name: "a data file that is not UTF-8",
    setup: (d) => (writeFileSync(join(d, "c.txt"), Buffer.from("Fa\xe7ade na\xefve r\xe9sum\xe9\n".repeat(20), "latin1")), ["train", "specs/01-bigram.yaml", "--data", join(d, "c.txt"), "--out", join(d, "out")]),
    want: (d) => `error: ${d}/c.txt is not valid UTF-8 (first bad byte at offset 2); convert it, e.g. with iconv -t UTF-8`,
  },
  {
    name: "a corpus shorter than block_size + 1",
    setup: (d) => (writeFileSync(join(d, "c.txt"), "To be"), ["train", "specs/01-bigram.yaml", "--data", join(d, "c.txt"), "--out", join(d, "out")]),
    want: (d) => `error: ${d}/c.txt has 5 tokens, fewer than block_size + 1 = 9; use a longer corpus or a smaller model.block_size`,
  },
  {
    name: "a validation split too small",
    setup: (d) => (
      writeFileSync(join(d, "c.txt"), "To be, or not to be, that is the question.\n".repeat(25)),
      ["train", "specs/01-bigram.yaml", "--data", join(d, "c.txt"), "--set", "data.val_fraction=0.00001", "--out", join(d, "out")]
    ),
    want: (d) => `error: the val split of ${d}/c.txt has 1 tokens, fewer than one window of block_size + 1 = 9; change data.val_fraction or use a longer corpus`,
  },
  {
    name: "a device as data (/dev/zero never ends)",
    setup: (d) => ["train", "specs/01-bigram.yaml", "--data", "/dev/zero", "--out", join(d, "out")],
    want: "error: --data /dev/zero is a character device, not a regular file; a corpus is read from a file (copy the text into one)",
  },
  {
    name: "a named pipe as data (it would wait for a writer)",
    setup: (d) => (execFileSync("mkfifo", [join(d, "fifo")]), ["train", "specs/01-bigram.yaml", "--data", join(d, "fifo"), "--out", join(d, "out")]),
    want: (d) => `error: --data ${d}/fifo is a named pipe, not a regular file; a corpus is read from a file (copy the text into one)`,
  },
  // resuming
  {
    name: "--resume with --out (the run continues in its own directory)",
    setup: (d, run) => ["train", "--resume", run, "--out", join(d, "other"), "--iters", "10"],
    want: (d) => `error: --out and --resume do not go together: a resumed run continues in its own directory (${d}/run); to branch it, copy the directory and resume the copy`,
  },
  {
    name: "--resume with --iters at or below the run's step",
    setup: (_d, run) => ["train", "--resume", run, "--iters", "3"],
    want: (d) => `error: --iters 3: ${d}/run is at step 5 already; with --resume, --iters is the step to train to, counting the steps done (--iters 8 trains 3 more)`,
  },
  {
    name: "--resume of a run that has finished",
    setup: (_d, run) => ["train", "--resume", run],
    want: (d) => `error: ${d}/run has finished: it is at step 5 of its 5 (training.max_iters); pass --iters with a larger total to train it further`,
  },
  // what a command writes
  {
    name: "plot --out onto the run's checkpoint",
    setup: (_d, run) => ["plot", run, "--out", join(run, "model.safetensors")],
    want: (d) => `error: --out ${d}/run/model.safetensors is part of the run in ${d}/run (its model.safetensors); babygpt plot never replaces a run's own files, so choose another path`,
  },
  {
    name: "plot --out onto a file plot did not write",
    setup: (d, run) => (writeFileSync(join(d, "mine.svg"), "<svg>mine</svg>\n"), ["plot", run, "--out", join(d, "mine.svg")]),
    want: (d) => `error: --out ${d}/mine.svg exists and was not written by babygpt plot; choose another path, or pass --force to replace it`,
  },
  {
    name: "plot --out into a folder that does not exist",
    setup: (d, run) => ["plot", run, "--out", join(d, "nope/loss.svg")],
    want: (d) => `error: --out ${d}/nope/loss.svg: the folder ${d}/nope does not exist; create it first`,
  },
  {
    name: "plot --out naming a directory",
    setup: (d, run) => ["plot", run, "--out", d],
    want: (d) => `error: --out ${d} is a directory; name a file to write`,
  },
  {
    name: "train --out under a file",
    setup: (d) => (writeFileSync(join(d, "notes.txt"), "mine\n"), ["train", "specs/01-bigram.yaml", "--out", join(d, "notes.txt/run")]),
    want: (d) => `error: --out ${d}/notes.txt/run: ${d}/notes.txt is a file, so nothing can be written under it`,
  },
  {
    name: "compile of a spec outside specs/ onto a file babygpt did not generate",
    setup: (d) => (
      writeFileSync(join(d, "01-bigram.yaml"), readFileSync(join(PROJECT_ROOT, "specs/01-bigram.yaml"))), writeFileSync(join(d, "01-bigram.ts"), "// mine\n"), ["compile", join(d, "01-bigram.yaml")]
    ),
    want: (d) => `error: ${d}/01-bigram.ts exists and was not written by babygpt compile; choose another path, or pass --force to replace it`,
  },
  {
    name: "compile --out into generated/",
    setup: (d) => (writeFileSync(join(d, "01-bigram.yaml"), readFileSync(join(PROJECT_ROOT, "specs/01-bigram.yaml"))), ["compile", join(d, "01-bigram.yaml"), "--out", "generated/01-bigram.ts"]),
    want: `--out generated/01-bigram.ts: ${GENERATED}/01-bigram.ts would be in generated/, which holds only the code of the specs in specs/ and specs/zoo/; compile it elsewhere with --out`,
  },
  // sampling
  {
    name: "a prompt character the vocabulary lacks",
    setup: (_d, run) => ["sample", run, "--prompt", "€", "--tokens", "5"],
    want: 'error: --prompt: the character "€" (U+20AC) at position 0 is not in the model\'s vocabulary of 65 characters',
  },
  // checkpoints
  {
    name: "a truncated model.safetensors",
    setup: (_d, run) => {
      const b = readFileSync(join(run, "model.safetensors"));
      writeFileSync(join(run, "model.safetensors"), b.subarray(0, b.length - 1000));
      return ["sample", run, "--tokens", "5"];
    },
    want: (d) => `error: ${d}/run/model.safetensors is not a valid safetensors file: tensor token_embedding.weight ends at byte 16900 but the data section has 15900 bytes (truncated?)`,
  },
  {
    name: "a safetensors header length that lies",
    setup: (_d, run) => {
      const b = readFileSync(join(run, "model.safetensors"));
      b.writeBigUInt64LE(BigInt(b.length * 2), 0);
      writeFileSync(join(run, "model.safetensors"), b);
      return ["sample", run, "--tokens", "5"];
    },
    want: (d) => `error: ${d}/run/model.safetensors is not a valid safetensors file: its header claims 34072 bytes but the file has only 17028 after the length (truncated?)`,
  },
  {
    name: "safetensors offsets that lie",
    setup: (_d, run) => {
      const b = readFileSync(join(run, "model.safetensors"));
      // the same header length, a tensor claiming more rows than the data holds
      const text = b.toString("latin1").replace('"shape":[65,65],"data_offsets":[0,16900]', '"shape":[99,65],"data_offsets":[0,25740]');
      writeFileSync(join(run, "model.safetensors"), Buffer.from(text, "latin1"));
      return ["sample", run, "--tokens", "5"];
    },
    want: (d) => `error: ${d}/run/model.safetensors is not a valid safetensors file: tensor token_embedding.weight ends at byte 25740 but the data section has 16900 bytes (truncated?)`,
  },
  {
    name: "a checkpoint from another spec",
    setup: (_d, run) => ["train", "specs/02-position.yaml", "--resume", run, "--iters", "10"],
    want: (d) =>
      `error: the checkpoint in ${d}/run belongs to spec "bigram" (specs/01-bigram.yaml, model sha256 ${JSON.parse(readFileSync(join(d, "run/meta.json"), "utf8")).spec.modelHash.slice(0, 12)}…), whose model differs from specs/02-position.yaml's`,
  },
  {
    name: "a foreign safetensors file put in place of the model",
    setup: (_d, run) => (writeFileSync(join(run, "model.safetensors"), foreign()), ["sample", run, "--tokens", "5"]),
    want: (d) => `error: ${d}/run/model.safetensors does not match its meta.json (sha256 ${sha(foreign()).slice(0, 12)}…, recorded ${JSON.parse(readFileSync(join(d, "run/meta.json"), "utf8")).files.model.slice(0, 12)}…); the file was changed or damaged`,
  },
  {
    // someone importing weights on purpose, meta.json updated to match: the tensor names are checked
    name: "a foreign safetensors model with a matching meta.json (sample)",
    setup: (_d, run) => (writeFileSync(join(run, "model.safetensors"), foreign()), editMeta(run, (m) => (m["files"].model = sha(foreign()))), ["sample", run, "--tokens", "5"]),
    want: (d) => `error: ${d}/run/model.safetensors does not fit this model: it lacks token_embedding.weight and has unknown wte`,
  },
  {
    name: "a foreign safetensors model with a matching meta.json (resume)",
    setup: (_d, run) => (writeFileSync(join(run, "model.safetensors"), foreign()), editMeta(run, (m) => (m["files"].model = sha(foreign()))), ["train", "--resume", run, "--iters", "10"]),
    want: (d) => `error: ${d}/run/model.safetensors does not fit this model: it lacks token_embedding.weight and has unknown wte`,
    logsFirst: true,
  },
  {
    name: "a foreign optimizer state with a matching meta.json",
    setup: (_d, run) => (writeFileSync(join(run, "optimizer.safetensors"), foreign()), editMeta(run, (m) => (m["files"].optimizer = sha(foreign()))), ["train", "--resume", run, "--iters", "10"]),
    want: (d) => `error: ${d}/run/optimizer.safetensors does not fit this model's optimizer: it has wte, which matches no parameter of this model`,
    logsFirst: true,
  },
  {
    name: "a missing meta.json",
    setup: (_d, run) => (rmSync(join(run, "meta.json")), ["sample", run]),
    want: (d) => `error: ${d}/run has no meta.json, so it holds no complete checkpoint (not a babygpt run, or its first checkpoint was never finished)`,
  },
  {
    name: "an empty meta.json",
    setup: (_d, run) => (writeFileSync(join(run, "meta.json"), ""), ["sample", run]),
    want: (d) => `error: ${d}/run/meta.json is not valid JSON`,
  },
  {
    name: "a meta.json that lacks a field",
    setup: (_d, run) => (editMeta(run, (m) => delete m["files"]), ["train", "--resume", run, "--iters", "10"]),
    want: (d) => `error: ${d}/run/meta.json is damaged: files is missing or has the wrong type`,
  },
  // the command line
  {
    name: "an unknown command",
    setup: () => ["trian", "specs/01-bigram.yaml"],
    want: "error: unknown command 'trian'; did you mean train? (see `babygpt --help`)",
  },
  {
    name: "an unknown flag",
    setup: (d) => ["train", "specs/01-bigram.yaml", "--itres", "5", "--out", join(d, "out")],
    want: "error: unknown option '--itres'; did you mean --iters? (see `babygpt train --help`)",
  },
  {
    name: "an unknown flag that begins a known one",
    setup: (_d, run) => ["sample", run, "--temp", "0.5"],
    want: "error: unknown option '--temp'; did you mean --temperature? (see `babygpt sample --help`)",
  },
  {
    name: "two values after one --set (it takes one; the second is not a spec)",
    setup: (d) => ["train", "--set", "training.eval_iters=1", "training.batch_size=4", "--out", join(d, "out")],
    want: "error: training.batch_size=4 looks like a key=value override, not a spec file; --set takes one, so repeat the flag: --set training.batch_size=4",
  },
  {
    name: "a bad number",
    setup: (d) => ["train", "specs/01-bigram.yaml", "--iters", "abc", "--out", join(d, "out")],
    want: 'error: option \'--iters <n>\' argument \'abc\' is invalid. --iters needs a whole number, got "abc" (see `babygpt train --help`)',
  },
  {
    name: "--out naming a file",
    setup: (d) => (writeFileSync(join(d, "notes.txt"), "mine\n"), ["train", "specs/01-bigram.yaml", "--out", join(d, "notes.txt")]),
    want: (d) => `error: --out ${d}/notes.txt is a file; name a new directory for the run`,
  },
  {
    name: "--out naming a run that exists",
    setup: (_d, run) => ["train", "specs/01-bigram.yaml", "--out", run],
    want: (d) => `error: --out ${d}/run exists and is not empty; choose a new directory, or continue that run with --resume ${d}/run`,
  },
  {
    name: "--set on a field that does not exist",
    setup: (d) => ["train", "specs/01-bigram.yaml", "--set", "training.optimiser.lr=0.1", "--out", join(d, "out")],
    want: '--set training.optimiser.lr=0.1: unknown key "optimiser" in "training"; did you mean "optimizer"?',
  },
  {
    name: "--set on a layer that does not exist",
    setup: (d) => ["train", "specs/01-bigram.yaml", "--set", "model.layers.3.dim=4", "--out", join(d, "out")],
    want: '--set model.layers.3.dim=4: "model.layers" is a list of 1; "3" is not an index in it',
  },
];

let fixture: string;

beforeAll(async () => {
  fixture = join(tempFiles({}), "run");
  const r = await runCli(["train", "specs/01-bigram.yaml", "--iters", "5", "--set", "training.eval_iters=2", "--out", fixture, "--quiet"]);
  expect(r.stderr + r.stdout).toContain("finished at step 5");
  expect(r.code).toBe(0);
});

describe("bad input through the CLI: exit 2, one located message, no stack trace, no file changed", () => {
  it.concurrent.each(cases)("$name", (c) => expectRefused(c, fixture));
});

describe("a model too large for this machine", () => {
  const sizeOf = (message: string): number => {
    const m = /needs about ([\d.]+) TiB \(weights, gradients, Adam moments and activations\), more than this machine's [\d.]+ GiB; shrink the model or the batch$/.exec(message);
    expect(m, message).not.toBeNull();
    return Number(m![1]);
  };
  // 02-position at n_embd 1e9 and vocab 65: (65 + 8 + 65)·1e9 + 65 parameters, 16 bytes each for weights,
  // gradients and two Adam moments, is 2.0 TiB before activations; they at most double it.
  const plausible = (tib: number): void => {
    expect(tib).toBeGreaterThanOrEqual((138e9 * 16) / 2 ** 40);
    expect(tib).toBeLessThan(2 * ((138e9 * 16) / 2 ** 40) + 1);
  };

  it.concurrent("is refused from a spec file before anything is compiled, allocated or written", async () => {
    const dir = tempFiles({ "huge.yaml": `extends: ${POSITION}\nname: huge\nmodel:\n  n_embd: 1000000000\n` });
    const before = snapshot(dir, GENERATED);
    const r = await runCli(["train", join(dir, "huge.yaml"), "--out", join(dir, "run")]);
    expect(r.code).toBe(2);
    expect(stackLines(r.stderr)).toEqual([]);
    // one line: no backend was chosen and no model code was emitted before the refusal
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^error: ${dir}/huge\\.yaml: training this model at batch 32 needs about`));
    plausible(sizeOf(r.stderr.trimEnd()));
    expect(snapshot(dir, GENERATED)).toEqual(before);
  });

  it.concurrent("is refused through --set the same way", async () => {
    const dir = tempFiles({});
    const before = snapshot(dir, GENERATED);
    const r = await runCli(["train", "specs/02-position.yaml", "--set", "model.n_embd=1000000000", "--out", join(dir, "run")]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: specs\/02-position\.yaml: training this model at batch 32 needs about/);
    plausible(sizeOf(r.stderr.trimEnd()));
    expect(snapshot(dir, GENERATED)).toEqual(before);
  });

  it.concurrent("is refused when the size comes from repeating a block a billion times", async () => {
    const dir = tempFiles({});
    const before = snapshot(dir, GENERATED);
    const r = await runCli(["train", "specs/12-baby-gpt.yaml", "--set", "model.layers.2.times=1000000000", "--out", join(dir, "run")]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    const m = /^error: specs\/12-baby-gpt\.yaml: training this model at batch 12 needs about ([\d.]+) PiB/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    // 197,888 parameters per block at width 128, 16 bytes each, is 2.8 PiB for 1e9 blocks before activations
    const weights = (197_888e9 * 16) / 2 ** 50;
    expect(Number(m![1])).toBeGreaterThanOrEqual(weights);
    expect(Number(m![1])).toBeLessThan(10 * weights);
    expect(snapshot(dir, GENERATED)).toEqual(before);
  });
});

describe("a model too large for the wasm backend", () => {
  it.concurrent("is refused before its first step, with the memory it needs and what to use instead", async () => {
    const dir = tempFiles({});
    const before = snapshot(dir, GENERATED);
    // The lecture GPT at batch 64 needs about 3.6 GiB: it fits this machine but not wasm's 4 GiB heap.
    const r = await runCli(["train", "specs/11-gpt.yaml", "--backend", "wasm", "--out", join(dir, "run")]);
    expect(r.code).toBe(2);
    expect(stackLines(r.stderr)).toEqual([]);
    expect(r.stderr).toMatch(/^error: specs\/11-gpt\.yaml: training this model at batch 64 needs about 3\.\d GiB, more than the wasm backend can hold \(its heap stops at 4 GiB\); use the native backend/m);
    expect(snapshot(dir, GENERATED)).toEqual(before);
  });
});

describe("training a spec from outside specs/", () => {
  it.concurrent("leaves generated/ alone, even when the file name matches a spec there", async () => {
    const dir = tempFiles({ "01-bigram.yaml": readFileSync(join(PROJECT_ROOT, "specs/01-bigram.yaml"), "utf8").replace("block_size: 8", "block_size: 4") });
    const before = snapshot(GENERATED);
    const r = await runCli(["train", join(dir, "01-bigram.yaml"), "--iters", "2", "--set", "training.eval_iters=1", "--out", join(dir, "run"), "--quiet"]);
    expect(r.stderr).not.toContain("compiled");
    expect(r.code).toBe(0);
    expect(snapshot(GENERATED)).toEqual(before);
    expect(readFileSync(join(dir, "run/model.ts"), "utf8")).toContain("blockSize: 4");
  });
});

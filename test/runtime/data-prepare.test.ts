// The token cache (runtime/data/prepare.ts): tinyshakespeare's ids exactly as encoding it in memory gives
// them, a hit that reads no file, a changed file prepared again, a crash mid-prepare (kill -9) leaving no
// entry, every bad input located and nothing cached, documents joined by an end-of-text token, .jsonl and
// gzip, a learned BPE whose tokenizer.json Hugging Face's `tokenizers` loads to the same ids, and the same
// batches from the token files, resumed or not. Corpora are generated in the test, small.
import { execFileSync } from "node:child_process";
import { appendFileSync, chmodSync, closeSync, existsSync, openSync, writeSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCorpus } from "../../runtime/data/corpus.js";
import { buildDataset } from "../../runtime/data/dataset.js";
import { sampleWindows } from "../../runtime/data/batches.js";
import { prepareData, type PrepareOptions } from "../../runtime/data/prepare.js";
import { fileTokens } from "../../runtime/data/token-file.js";
import { asSource, type TokenSource } from "../../runtime/data/token-source.js";
import { tokenizerFromState } from "../../runtime/data/tokenizer.js";
import { UserError } from "../../runtime/errors.js";
import { Prng } from "../../runtime/random.js";
import { tempFiles, useSharedData } from "../helpers/project.js";
import { startCli } from "../reliability/cli.js";
import { PYTHON } from "../helpers/torch.js";

// a token cache of this file's own: every prepare here starts from nothing
const cacheHome = mkdtempSync(join(tmpdir(), "babygpt-cache-"));
process.env["XDG_CACHE_HOME"] = cacheHome;
const tokens = (): string => join(cacheHome, "babygpt", "tokens");
const entries = (): string[] => (existsSync(tokens()) ? readdirSync(tokens()).filter((n) => /^[0-9a-f]{64}$/.test(n)) : []);

const all = (src: TokenSource): number[] => {
  const out = new Int32Array(src.length);
  src.read(0, out);
  return Array.from(out);
};

const prepare = (options: Partial<PrepareOptions> & Pick<PrepareOptions, "tokenizer">, log: string[] = []) =>
  // one worker: a worker's start (its TypeScript loader) is most of a small corpus's preparation
  prepareData({ valFraction: 0.1, workers: 1, report: { log: (l) => log.push(l) }, ...options });

/** Lines of words, seeded: a corpus with enough repetition for BPE merges. */
function words(seed: number, lines: number): string {
  const vocab = ["the", "king", "queen", "shall", "speak", "hear", "me", "naïve", "café", "of", "and", "to", "Rome", "O", "!", "?", "—"];
  const rng = new Prng(seed);
  return Array.from({ length: lines }, () => Array.from({ length: 3 + rng.nextInt(8) }, () => vocab[rng.nextInt(vocab.length)]).join(" ")).join("\n") + "\n";
}

beforeAll(() => {
  useSharedData();
});
afterAll(() => rmSync(cacheHome, { recursive: true, force: true }));

describe("tinyshakespeare in the token cache", () => {
  it.each([
    ["char", false],
    ["gpt2", false],
    ["gpt2", true],
  ] as const)("%s (compact %s): the ids and the vocabulary of encoding the text in memory (js-tiktoken)", async (kind, compact) => {
    const p = await prepare({ tokenizer: { learn: kind, compact } });
    const old = buildDataset(await loadCorpus(), { tokenizer: kind, compact_vocab: compact, val_fraction: 0.1 });
    expect(p.tokenizer.state()).toEqual(old.tokenizer.state());
    expect(all(p.train)).toEqual(Array.from(old.train));
    expect(all(p.val)).toEqual(Array.from(old.val));
    expect(p.entry.manifest.dtype).toBe("uint16");
    // nanoGPT's layout: the token files are the ids as little-endian uint16, nothing else
    expect(statSync(p.entry.train).size).toBe(old.train.length * 2);
  });
});

describe("finding an entry", () => {
  it("finds it again by the file's path, size, mtime and inode, without reading the file", async () => {
    const dir = tempFiles({ "c.txt": words(1, 300) });
    const file = join(dir, "c.txt");
    const mtime = 1_700_000_000; // whole seconds: set again exactly below
    utimesSync(file, mtime, mtime);
    const first = await prepare({ data: file, tokenizer: { learn: "char", compact: false } });
    expect(first.hit).toBe(false);
    const again = await prepare({ data: file, tokenizer: { learn: "char", compact: false } });
    expect(again.hit).toBe(true);
    expect(again.entry.dir).toBe(first.entry.dir);
    // the same size, inode and mtime with other bytes: the index answers, the file is not hashed again
    const ino = statSync(file).ino;
    writeFileSync(file, readFileSync(file, "utf8").replace("king", "kong"));
    utimesSync(file, mtime, mtime);
    expect(statSync(file).ino).toBe(ino);
    expect((await prepare({ data: file, tokenizer: { learn: "char", compact: false } })).hit).toBe(true);
  });

  it("prepares a changed file again, and says so", async () => {
    const dir = tempFiles({ "c.txt": words(2, 300) });
    const file = join(dir, "c.txt");
    const first = await prepare({ data: file, tokenizer: { learn: "char", compact: false } });
    appendFileSync(file, "a line more\n");
    const log: string[] = [];
    const second = await prepare({ data: file, tokenizer: { learn: "char", compact: false } }, log);
    expect(second.hit).toBe(false);
    expect(second.entry.dir).not.toBe(first.entry.dir);
    expect(second.train.length + second.val.length).toBe(first.train.length + first.val.length + "a line more\n".length);
    expect(log.join("\n")).toMatch(new RegExp(`^${file} has changed since it was last read \\(sha256 [0-9a-f]{12}… → [0-9a-f]{12}…\\); preparing its tokens again$`, "m"));
  });

  it("keys an entry by the tokenizer and the split too", async () => {
    const file = join(tempFiles({ "c.txt": words(3, 200) }), "c.txt");
    const a = await prepare({ data: file, tokenizer: { learn: "char", compact: false } });
    const b = await prepare({ data: file, tokenizer: { learn: "gpt2", compact: false } });
    const c = await prepare({ data: file, tokenizer: { learn: "char", compact: false }, valFraction: 0.2 });
    expect(new Set([a.entry.dir, b.entry.dir, c.entry.dir]).size).toBe(3);
    expect(c.val.length).toBeGreaterThan(a.val.length);
  });

  it("removes a damaged entry and prepares it again", async () => {
    const file = join(tempFiles({ "c.txt": words(4, 200) }), "c.txt");
    const first = await prepare({ data: file, tokenizer: { learn: "char", compact: false } });
    appendFileSync(first.entry.val, Buffer.from([1, 0]));
    const log: string[] = [];
    const again = await prepare({ data: file, tokenizer: { learn: "char", compact: false } }, log);
    expect(again.hit).toBe(false);
    expect(log.join("\n")).toContain(`the token cache entry ${first.entry.dir}: val.bin holds`);
    expect(all(again.val)).toEqual(all(first.val).slice(0, again.val.length));
    // a changed byte keeps the size: a hit uses the entry, a verified hit hashes it and prepares it again
    const fd = openSync(again.entry.train, "r+");
    writeSync(fd, Buffer.from([9, 0]), 0, 2, 0);
    closeSync(fd);
    expect((await prepare({ data: file, tokenizer: { learn: "char", compact: false } })).hit).toBe(true);
    const verifyLog: string[] = [];
    const verified = await prepare({ data: file, tokenizer: { learn: "char", compact: false }, verify: true }, verifyLog);
    expect(verified.hit).toBe(false);
    expect(verifyLog.join("\n")).toMatch(/: train\.bin has sha256 [0-9a-f]{12}…, its manifest says [0-9a-f]{12}…; preparing it again$/m);
    expect(all(verified.train)).toEqual(all(first.train));
  });
});

describe("the cache's protections", () => {
  it("refuses a token cache others can write, in one line, as the model cache does", async () => {
    const file = join(tempFiles({ "c.txt": words(17, 50) }), "c.txt");
    await prepare({ data: file, tokenizer: { learn: "char", compact: false } });
    chmodSync(tokens(), 0o777);
    try {
      const e = await prepare({ data: file, tokenizer: { learn: "char", compact: false } }).catch((err: unknown) => err);
      expect((e as UserError).message).toBe(
        `the token cache ${tokens()} is unsafe: ${tokens()} is writable by other users (mode 0777); babygpt trains on its files only when no one else can change them (chmod 700 ${tokens()}, or set XDG_CACHE_HOME to a folder of your own)`,
      );
    } finally {
      chmodSync(tokens(), 0o700);
    }
    expect(statSync(tokens()).mode & 0o777).toBe(0o700);
  });
});

describe("a crash mid-prepare", () => {
  it("leaves no entry, only a build folder the next prepare removes", async () => {
    const dir = tempFiles({});
    const file = join(dir, "big.txt");
    writeFileSync(file, words(5, 400_000)); // about 13 MB: long enough to be caught writing tokens
    const run = startCli(["data", "prepare", "--data", file], { XDG_CACHE_HOME: cacheHome });
    // wait on state: the build folder holding tokens
    const building = (): string | undefined => (existsSync(tokens()) ? readdirSync(tokens()).find((n) => n.startsWith(".build-")) : undefined);
    const written = (b: string): boolean => readdirSync(join(tokens(), b)).some((n) => n.endsWith(".bin") && statSync(join(tokens(), b, n)).size > 0);
    let build: string | undefined;
    for (let i = 0; i < 3000 && run.child.exitCode === null; i++) {
      build = building();
      if (build && written(build)) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(build, run.stderr()).toBeDefined();
    run.child.kill("SIGKILL");
    expect((await run.done).signal).toBe("SIGKILL");
    const before = entries();
    expect(readdirSync(tokens())).toContain(build);
    const log: string[] = [];
    const p = await prepare({ data: file, tokenizer: { learn: "char", compact: false } }, log);
    expect(p.hit).toBe(false);
    expect(log).toContain(`removed ${join(tokens(), build!)}, left by a preparation that did not finish`);
    expect(readdirSync(tokens()).filter((n) => n.startsWith(".build-"))).toEqual([]);
    expect(entries()).toEqual([...before, p.entry.manifest.key].sort());
    expect(p.train.length + p.val.length).toBe(Array.from(readFileSync(file, "utf8")).length);
  });
});

describe("Ctrl-C while a training prepares its corpus", () => {
  it("stops the preparation: nothing cached, no run written", async () => {
    const dir = tempFiles({});
    const file = join(dir, "big.txt");
    writeFileSync(file, words(18, 400_000));
    const before = entries();
    const run = startCli(["train", "specs/01-bigram.yaml", "--data", file, "--out", join(dir, "run")], { XDG_CACHE_HOME: cacheHome });
    let build: string | undefined;
    for (let i = 0; i < 3000 && run.child.exitCode === null && build === undefined; i++) {
      build = existsSync(tokens()) ? readdirSync(tokens()).find((n) => n.startsWith(".build-")) : undefined;
      if (build === undefined) await new Promise((r) => setTimeout(r, 10));
    }
    expect(build, run.stderr()).toBeDefined();
    run.child.kill("SIGINT");
    const r = await run.done;
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split("\n").at(-1)).toBe(`error: stopped while preparing the tokens of ${file}: nothing was cached (the next run prepares them again)`);
    expect(entries()).toEqual(before);
    expect(readdirSync(tokens()).filter((n) => n.startsWith(".build-"))).toEqual([]);
    expect(existsSync(join(dir, "run"))).toBe(false);
  });
});

describe("bad input: one located line, nothing cached", () => {
  const refused = async (options: Parameters<typeof prepare>[0]): Promise<string> => {
    const before = entries();
    const e = await prepare(options).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(UserError);
    expect(entries()).toEqual(before);
    expect(existsSync(tokens()) ? readdirSync(tokens()).filter((n) => n.startsWith(".build-")) : []).toEqual([]);
    return (e as UserError).message;
  };

  it("invalid UTF-8 in the middle of a file among several: the file and the byte offset", async () => {
    const dir = tempFiles({ "a.txt": words(6, 50), "c.txt": words(8, 50) });
    const good = Buffer.from(words(7, 20000)); // past the first read block
    writeFileSync(join(dir, "b.txt"), Buffer.concat([good, Buffer.from([0x66, 0xff, 0x66]), good]));
    for (const kind of ["char", "gpt2"] as const) {
      expect(await refused({ data: dir, tokenizer: { learn: kind, compact: false } })).toBe(
        `${join(dir, "b.txt")} is not valid UTF-8 (first bad byte at offset ${good.length + 1}); convert it, e.g. with iconv -t UTF-8`,
      );
    }
  });

  it("a .jsonl line that is not JSON, or has no text: the file and the line", async () => {
    const dir = tempFiles({ "d.jsonl": `{"text": "one"}\n{"text": "two"}\n{"text": oops}\n` });
    expect(await refused({ data: join(dir, "d.jsonl"), tokenizer: { learn: "char", compact: false } })).toMatch(
      new RegExp(`^${join(dir, "d.jsonl")}:3: not a JSON value \\(.*\\); each line of a \\.jsonl file is one JSON object$`),
    );
    writeFileSync(join(dir, "d.jsonl"), `{"text": "one"}\n{"body": "two"}\n`);
    expect(await refused({ data: join(dir, "d.jsonl"), tokenizer: { learn: "gpt2", compact: false } })).toBe(
      `${join(dir, "d.jsonl")}:2: no "text" string in this line's JSON; name the field that holds the text with --text-field`,
    );
    // --text-field names it
    const p = await prepare({ data: join(dir, "d.jsonl"), textField: "body", tokenizer: { learn: "char", compact: false }, valFraction: 0.5 }).catch((e: unknown) => e);
    expect((p as UserError).message).toBe(`${join(dir, "d.jsonl")}:1: no "body" string in this line's JSON`);
  });

  it("a directory with no text files", async () => {
    const dir = tempFiles({ "notes.bin": "x", "sub/image.png": "y" });
    expect(await refused({ data: dir, tokenizer: { learn: "char", compact: false } })).toBe(`--data ${dir}: the directory has no text files (.txt, .md or .jsonl, or any of them gzip-compressed)`);
  });

  it("a gzip file cut short", async () => {
    const dir = tempFiles({});
    const whole = gzipSync(words(16, 2000));
    writeFileSync(join(dir, "a.txt.gz"), whole.subarray(0, whole.length >> 1));
    expect(await refused({ data: dir, tokenizer: { learn: "char", compact: false } })).toMatch(new RegExp(`^${join(dir, "a.txt.gz")} is not a whole gzip file \\(.+\\); recompress it, or give the text uncompressed$`));
  });

  it("a glob that matches nothing, and a binary file", async () => {
    const dir = tempFiles({ "a.txt": "x" });
    expect(await refused({ data: join(dir, "*.jsonl"), tokenizer: { learn: "char", compact: false } })).toBe(`--data ${join(dir, "*.jsonl")}: no file matches`);
    writeFileSync(join(dir, "b.txt"), Buffer.from("text\0more"));
    expect(await refused({ data: join(dir, "*.txt"), tokenizer: { learn: "char", compact: false } })).toBe(`${join(dir, "b.txt")} looks binary (it contains NUL bytes); a corpus must be UTF-8 text`);
  });
});

describe("documents", () => {
  it("an empty file among many is skipped and counted", async () => {
    const dir = tempFiles({ "a.txt": "ab", "b.txt": "", "c.txt": "cd" });
    const log: string[] = [];
    const p = await prepareData({ data: dir, tokenizer: { learn: "char", compact: false }, valFraction: 0.2, verbose: true, report: { log: (l) => log.push(l) } });
    expect(p.entry.manifest.emptyFiles).toBe(1);
    expect(p.entry.manifest.documents).toBe(2);
    expect(log.join("\n")).toContain(`prepared ${dir}: 2 files (1 empty file skipped), 2 documents`);
  });

  it("are joined by an end-of-text token: an id after the characters, GPT-2's <|endoftext|>", async () => {
    const dir = tempFiles({ "a.txt": "abab", "b.txt": "cdcd" });
    const chars = await prepare({ data: dir, tokenizer: { learn: "char", compact: false }, valFraction: 0.2 });
    expect(chars.tokenizer.state()).toEqual({ kind: "char", chars: "abcd", eot: true });
    expect([...all(chars.train), ...all(chars.val)]).toEqual([0, 1, 0, 1, 4, 2, 3, 2, 3]);
    expect(chars.tokenizer.decode([1, 4, 2])).toBe("b<|endoftext|>c");
    const gpt2 = await prepare({ data: dir, tokenizer: { learn: "gpt2", compact: false }, valFraction: 0.2 });
    const ids = [...all(gpt2.train), ...all(gpt2.val)];
    expect(ids).toEqual([...tokenizerFromState({ kind: "gpt2", compact: null }).encode("abab"), 50256, ...tokenizerFromState({ kind: "gpt2", compact: null }).encode("cdcd")]);
  });

  it("reads .jsonl (a document a line) and gzip like the plain text", async () => {
    const docs = [words(9, 30), words(10, 30), words(11, 30)];
    const plain = tempFiles(Object.fromEntries(docs.map((d, i) => [`${i}.txt`, d])));
    const dir = tempFiles({});
    writeFileSync(join(dir, "docs.jsonl.gz"), gzipSync(`${docs.map((d) => JSON.stringify({ text: d, id: 1 })).join("\n")}\n\n`));
    const a = await prepare({ data: plain, tokenizer: { learn: "gpt2", compact: false } });
    const b = await prepare({ data: join(dir, "*.gz"), tokenizer: { learn: "gpt2", compact: false } });
    expect(b.entry.manifest.documents).toBe(3);
    expect([...all(b.train), ...all(b.val)]).toEqual([...all(a.train), ...all(a.val)]);
    expect(b.corpus).toMatchObject({ path: join(dir, "docs.jsonl.gz"), textField: "text" });
  });
});

describe("a learned byte-level BPE", () => {
  const corpus = (): string => tempFiles({ "a.txt": words(12, 3000), "b.txt": words(13, 3000), "c.txt": words(14, 600), "d.txt": "Ünïcödé 😀 日本語 <|endoftext|> done.\n" });

  it("splits in bytes at a document, learns the merges asked for, and is the same learned twice", async () => {
    const dir = corpus();
    const p = await prepare({ data: dir, tokenizer: { learn: { type: "bpe", vocab_size: 300 }, compact: false } });
    expect(p.tokenizer.vocabSize).toBe(300);
    expect(p.entry.manifest.split.rule).toBe("bytes");
    expect(p.entry.manifest.dtype).toBe("uint16");
    // val is the last documents whole: c.txt and d.txt (the split falls in c's bytes' span)
    const text = p.tokenizer.decode(all(p.val));
    expect(text).toBe(`${readFileSync(join(dir, "c.txt"), "utf8")}<|endoftext|>${readFileSync(join(dir, "d.txt"), "utf8")}`);
    const other = mkdtempSync(join(tmpdir(), "babygpt-cache-"));
    process.env["XDG_CACHE_HOME"] = other;
    try {
      const again = await prepare({ data: dir, tokenizer: { learn: { type: "bpe", vocab_size: 300 }, compact: false } });
      expect(again.tokenizer.state()).toEqual(p.tokenizer.state());
    } finally {
      process.env["XDG_CACHE_HOME"] = cacheHome;
      rmSync(other, { recursive: true, force: true });
    }
  });

  it("says so when the text offers fewer merges than asked for", async () => {
    // 17 words in a few forms: every chunk is one token after a few dozen merges
    const log: string[] = [];
    const p = await prepareData({ data: corpus(), tokenizer: { learn: { type: "bpe", vocab_size: 1000 }, compact: false }, valFraction: 0.1, verbose: true, report: { log: (l) => log.push(l) } });
    expect(p.tokenizer.vocabSize).toBeLessThan(1000);
    expect(log).toContain(`the training text offers ${p.tokenizer.vocabSize - 257} merges, not 743: the vocabulary has ${p.tokenizer.vocabSize} tokens`);
  });

  it("is stored as a tokenizer.json that Hugging Face's tokenizers loads to the same ids", async () => {
    const p = await prepare({ data: corpus(), tokenizer: { learn: { type: "bpe", vocab_size: 300 }, compact: false } });
    const { Tokenizer } = (await import("tokenizers")).default as typeof import("tokenizers");
    const hf = Tokenizer.fromFile(p.entry.tokenizerJson!);
    expect(hf.getVocabSize()).toBe(300);
    const sample = `${words(15, 200)}Ünïcödé 😀 日本語 done. naïve\tcafé  —  x\n\n`;
    const ours = Array.from(p.tokenizer.encode(sample));
    expect((await hf.encode(sample, null, { addSpecialTokens: false })).getIds()).toEqual(ours);
    expect(p.tokenizer.decode(ours)).toBe(sample);
    // the token files were encoded by tiktoken's WASM build in the workers: the same ids again
    const file = join(tempFiles({ "s.txt": sample }), "s.txt");
    const cached = await prepare({ data: file, tokenizer: { fixed: p.tokenizer.state() }, valFraction: 0.5 });
    expect([...all(cached.train), ...all(cached.val)]).toEqual(ours);
  });
});

describe("batches from the token files", () => {
  it("are the batches of the ids in memory, and a resumed stream continues the same", async () => {
    const p = await prepare({ tokenizer: { learn: "char", compact: false } });
    const old = buildDataset(await loadCorpus(), { tokenizer: "char", compact_vocab: false, val_fraction: 0.1 });
    const whole = new Prng(1337);
    const draws = Array.from({ length: 6 }, () => sampleWindows(p.train, 12, 64, whole));
    const inMemory = new Prng(1337);
    for (const d of draws) expect(sampleWindows(old.train, 12, 64, inMemory)).toEqual(d);
    // three draws, the PRNG's state saved (as a checkpoint keeps it), three more from a fresh source
    const first = new Prng(1337);
    for (let i = 0; i < 3; i++) sampleWindows(p.train, 12, 64, first);
    const resumed = Prng.fromState(first.state);
    const reopened = (await prepare({ tokenizer: { learn: "char", compact: false } })).train;
    for (let i = 3; i < 6; i++) expect(sampleWindows(reopened, 12, 64, resumed)).toEqual(draws[i]);
    expect(asSource(old.val).length).toBe(p.val.length);
    // tinyshakespeare's file is small enough to be read whole: the positioned reads of a large one give the same
    const byPosition = fileTokens(p.entry.train, p.entry.manifest.dtype, 0);
    const again = new Prng(1337);
    for (const d of draws) expect(sampleWindows(byPosition, 12, 64, again)).toEqual(d);
    const tail = new Int32Array(100);
    byPosition.read(byPosition.length - 100, tail);
    expect(Array.from(tail)).toEqual(Array.from(old.train.subarray(-100)));
  });
});

describe("the torch engine's token files", () => {
  it("numpy reads the cache's train.bin as nanoGPT's prepare.py writes it", async () => {
    const p = await prepare({ tokenizer: { learn: "char", compact: false } });
    let out: string;
    try {
      out = execFileSync(PYTHON, ["-c", `import numpy as np; a = np.memmap(${JSON.stringify(p.entry.train)}, dtype=np.uint16, mode="r"); print(len(a), *a[1000:1010])`], { encoding: "utf8" });
    } catch {
      return; // no numpy here: the torch tests, which need it, say so
    }
    const ids = new Int32Array(10);
    p.train.read(1000, ids);
    expect(out.trim()).toBe([p.train.length, ...ids].join(" "));
  });
});

// Which encoder and which BPE trainer the data preparation uses, measured (`node --import tsx
// bench/tokenizers.ts [--mb 20] [--text FILE]`): on tinyshakespeare's lines shuffled into a text of --mb MB
// (or the first --mb MB of FILE: a text with a longer tail of rare words than Shakespeare's), one thread,
// in one process, the encoders taking turns round after round (so the machine's load falls on all alike):
// js-tiktoken (what encoded corpora before), tiktoken's WASM build on whole 4 MB pieces, the same through
// the prepare workers' chunk cache (runtime/data/prepare-worker.ts), and Hugging Face's tokenizers (its
// Node binding, encodeBatch over the same pieces, with GPT-2's vocabulary and merges as tokenizer.json);
// every one must give the same ids. Then learning: our BPE trainer (chunk counts and merges, to 8,192
// tokens) against tokenizers' Tokenizer.train, whose Node binding takes no trainer settings (its default
// trainer: 30,000 tokens). Writes bench/results/tokenizers-<date>.json.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Tiktoken as JsTiktoken } from "js-tiktoken/lite";
import gpt2Ranks from "js-tiktoken/ranks/gpt2";
import { Tiktoken } from "tiktoken/lite";
import { writeFileAtomic } from "../util/write-atomic.js";
import { byteLevelString, GPT2_PATTERN } from "../runtime/data/byte-level.js";
import { ChunkCounts, learnMerges } from "../runtime/data/bpe-train.js";
import { loadCorpus } from "../runtime/data/corpus.js";
import { chunkEncoder } from "../runtime/data/prepare-worker.js";
import { PROJECT_ROOT } from "../runtime/paths.js";
import { Prng } from "../runtime/random.js";

const mbArg = process.argv.indexOf("--mb");
const MB = mbArg > 0 ? Number(process.argv[mbArg + 1]) : 20;
const ROUNDS = 3;

const textArg = process.argv.indexOf("--text");
const textFile = textArg > 0 ? process.argv[textArg + 1] : undefined;
function shuffledShakespeare(lines: readonly string[]): string {
  const rng = new Prng(1);
  const parts: string[] = [];
  for (let size = 0; size < MB * 1e6; ) {
    const line = lines[rng.nextInt(lines.length)]!;
    parts.push(line);
    size += line.length + 1;
  }
  return parts.join("\n");
}
const text = textFile ? readFileSync(textFile, "utf8").slice(0, MB * 1e6) : shuffledShakespeare((await loadCorpus()).text.split("\n"));
// pieces cut at newlines, as the prepare workers get them
const pieces: string[] = [];
for (let i = 0; i < text.length; ) {
  const end = Math.min(text.length, text.indexOf("\n", i + (4 << 20)) + 1 || text.length);
  pieces.push(text.slice(i, end));
  i = end;
}

/** GPT-2 as tokenizer.json: the vocabulary in the byte-level alphabet, each token's merge found by running BPE on its bytes with the ranks below its own. */
function gpt2TokenizerJson(): string {
  const tokens: Uint8Array[] = [];
  for (const line of gpt2Ranks.bpe_ranks.split("\n")) {
    if (!line) continue;
    const [, offset, ...b64] = line.split(" ");
    b64.forEach((t, i) => (tokens[Number(offset) + i] = Buffer.from(t, "base64")));
  }
  const rank = new Map(tokens.map((t, i) => [Buffer.from(t).toString("latin1"), i]));
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => (vocab[byteLevelString(t)] = i));
  const merges: [string, string][] = [];
  tokens.forEach((t, r) => {
    if (t.length < 2) return;
    let ps = Array.from(t, (b) => Uint8Array.of(b));
    while (ps.length > 2) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < ps.length; i++) {
        const k = rank.get(Buffer.concat([ps[i]!, ps[i + 1]!]).toString("latin1"));
        if (k !== undefined && k < r && k < bestRank) [best, bestRank] = [i, k];
      }
      ps = [...ps.slice(0, best), Buffer.concat([ps[best]!, ps[best + 1]!]), ...ps.slice(best + 2)];
    }
    merges.push([byteLevelString(ps[0]!), byteLevelString(ps[1]!)]);
  });
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return JSON.stringify({ version: "1.0", added_tokens: [], normalizer: null, pre_tokenizer: byteLevel, post_processor: null, decoder: byteLevel, model: { type: "BPE", dropout: null, unk_token: null, fuse_unk: false, byte_fallback: false, vocab, merges } });
}

const { Tokenizer, BPE, byteLevelPreTokenizer } = (await import("tokenizers")).default as typeof import("tokenizers");
const work = mkdtempSync(join(tmpdir(), "babygpt-tokenizers-"));
try {
  writeFileSync(join(work, "gpt2.json"), gpt2TokenizerJson());
  const hf = Tokenizer.fromFile(join(work, "gpt2.json"));
  const js = new JsTiktoken(gpt2Ranks);
  const wasm = new Tiktoken(gpt2Ranks.bpe_ranks, gpt2Ranks.special_tokens, gpt2Ranks.pat_str);
  const encoders: Record<string, () => Promise<number[] | Uint32Array>> = {
    "js-tiktoken": async () => pieces.flatMap((p) => js.encode(p, [], [])),
    "tiktoken (WASM), whole pieces": async () => Uint32Array.from(pieces.flatMap((p) => Array.from(wasm.encode_ordinary(p)))),
    "tiktoken (WASM), chunk cache": async () => {
      const encode = chunkEncoder((c) => wasm.encode_ordinary(c), GPT2_PATTERN);
      return Uint32Array.from(pieces.flatMap((p) => Array.from(encode(p))));
    },
    "tokenizers (Rust), encodeBatch": async () => (await hf.encodeBatch(pieces, { addSpecialTokens: false })).flatMap((e) => e.getIds()),
  };
  const seconds: Record<string, number[]> = Object.fromEntries(Object.keys(encoders).map((k) => [k, []]));
  let reference: string | undefined;
  const loads: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(encoders)) {
      loads.push(loadavg()[0]!);
      const t0 = performance.now();
      const ids = await run();
      seconds[name]!.push((performance.now() - t0) / 1000);
      const key = `${ids.length}:${Array.from(ids.slice(0, 1000)).join(",")}:${Array.from(ids.slice(-1000)).join(",")}`;
      reference ??= key;
      if (key !== reference) throw new Error(`${name} gives other ids than js-tiktoken`);
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const encoding = Object.fromEntries(Object.entries(seconds).map(([k, v]) => [k, { seconds: v, mbPerSec: text.length / 1e6 / median(v) }]));

  // learning: our counts and merges to 8,192 tokens, against tokenizers' default trainer
  const file = join(work, "corpus.txt");
  writeFileSync(file, text);
  let t0 = performance.now();
  const counts = new ChunkCounts();
  const re = new RegExp(GPT2_PATTERN, "gu");
  for (const p of pieces) {
    const m = new Map<string, number>();
    for (const x of p.matchAll(re)) m.set(x[0], (m.get(x[0]) ?? 0) + 1);
    counts.add([...m.keys()], [...m.values()]);
  }
  const countSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const merges = learnMerges(counts.counts, 8192 - 257);
  const mergeSeconds = (performance.now() - t0) / 1000;
  const trainer = new Tokenizer(BPE.empty());
  trainer.setPreTokenizer(byteLevelPreTokenizer(false, true));
  t0 = performance.now();
  trainer.train([file]);
  const hfSeconds = (performance.now() - t0) / 1000;
  const results = {
    date: new Date().toISOString(),
    command: `node --import tsx bench/tokenizers.ts --mb ${MB}${textFile ? ` --text ${textFile}` : ""}`,
    text: textFile ?? "tinyshakespeare's lines, shuffled",
    distinctChunks: new Set(text.match(new RegExp(GPT2_PATTERN, "gu"))).size,
    machine: { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length },
    textMB: text.length / 1e6,
    rounds: ROUNDS,
    load: { min: Math.min(...loads), max: Math.max(...loads) },
    encoding,
    learning: {
      ours: { countSeconds, mergeSeconds, merges: merges.length / 2, note: "one thread here; the prepare workers count in parallel" },
      tokenizers: { seconds: hfSeconds, vocab: trainer.getVocabSize(), note: "Tokenizer.train(files) with the model's default trainer: the Node binding takes no vocab_size" },
    },
  };
  const dir = join(PROJECT_ROOT, "bench/results");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `tokenizers-${results.date.slice(0, 10)}${textFile ? "-text" : ""}.json`);
  writeFileAtomic(out, `${JSON.stringify(results, null, 2)}\n`);
  for (const [k, v] of Object.entries(encoding)) console.log(`${k.padEnd(34)} ${v.mbPerSec.toFixed(1)} MB/s (median of ${ROUNDS})`);
  console.log(`ours: count ${countSeconds.toFixed(1)} s + ${merges.length / 2} merges ${mergeSeconds.toFixed(1)} s; tokenizers' train (default trainer, vocab ${trainer.getVocabSize()}): ${hfSeconds.toFixed(1)} s; load ${results.load.min.toFixed(1)}–${results.load.max.toFixed(1)}`);
  console.log(`wrote ${out}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

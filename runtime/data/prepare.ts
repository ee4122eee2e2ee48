// `babygpt data prepare` and the first training that needs it: the corpus (runtime/data/corpus-files.ts)
// tokenized once, in a streaming pass over its files with a worker per core, into the token cache
// (runtime/data/token-cache.ts). Later runs, resumes and evaluations of the same corpus and tokenizer find
// the entry by the files' hashes (remembered by path, size, mtime and inode: runtime/data/file-hashes.ts)
// and read its token files by position (runtime/data/token-file.ts): no text and no token array is ever
// held whole.
//
// Passes over the corpus, by tokenizer:
//   char        collect the characters (the vocabulary), then encode;
//   gpt2        encode (a compacted vocabulary is read off the ids, which are then rewritten);
//   bpe (learn) count the training part's chunks, learn the merges, then encode.
// The split: the last val_fraction of the tokens for char and GPT-2 (as before), in bytes before learning
// for a learned BPE (corpus-pieces.ts, ByteSplit). Documents (files, .jsonl lines) are joined by an
// end-of-text token: GPT-2's <|endoftext|>, a learned BPE's last id, and for characters an id after them
// when there is more than one document, so a one-file corpus is tokenized exactly as before.
import { createHash } from "node:crypto";
import { closeSync, createReadStream, fsyncSync, openSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync, ftruncateSync } from "node:fs";
import { join } from "node:path";
import gpt2Ranks from "js-tiktoken/ranks/gpt2";
import type { DataSpec } from "../../compiler/index.js";
import { UserError } from "../errors.js";
import { bpeRanks, type BpeState } from "./bpe-tokenizer.js";
import { ChunkCounts, learnMerges } from "./bpe-train.js";
import type { CorpusFile, CorpusFiles } from "./corpus-files.js";
import { corpusPieces, type ByteSplit, type Side } from "./corpus-pieces.js";
import type { WorkerEncoder, WorkerJob } from "./prepare-worker.js";
import { locateCorpus, type CorpusRecord } from "./run-corpus.js";
import { buildDir, cacheKey, commitEntry, openEntry, removeDeadBuilds, tokenCacheDir, TOKENS_FORMAT, type CacheEntry, type Manifest, type SourceRecord } from "./token-cache.js";
import { fileTokens } from "./token-file.js";
import { bytesPerToken, dtypeFor, type TokenDtype, type TokenSource } from "./token-source.js";
import { GPT2_END_OF_TEXT, GPT2_VOCAB, tokenizerFromState, type Tokenizer, type TokenizerState } from "./tokenizer.js";
import { defaultWorkers, WorkerPool } from "./worker-pool.js";
import { canonicalJson } from "../../util/hash.js";

/** What the spec asks for: data.tokenizer. */
export type TokenizerSpec = DataSpec["tokenizer"];

/** Learn the spec's tokenizer from the corpus, or encode with a run's own. */
export type TokenizerChoice =
  | { readonly learn: TokenizerSpec; readonly compact: boolean }
  | { readonly fixed: TokenizerState; /** the spec's, whose entry serves when it has this very tokenizer */ readonly learned?: { readonly learn: TokenizerSpec; readonly compact: boolean } };

export interface PrepareReporter {
  log(line: string): void;
  /** A pass's progress over the corpus's bytes (MB), with its rate. */
  progress?(what: string, doneMB: number, totalMB: number, rate: string): void;
}

export interface PrepareOptions {
  readonly data?: string | undefined;
  /** The field of a .jsonl line that holds its text (default "text"). */
  readonly textField?: string | undefined;
  readonly download?: boolean;
  readonly tokenizer: TokenizerChoice;
  readonly valFraction: number;
  readonly workers?: number;
  readonly report?: PrepareReporter;
  /** Log the summary of a preparation and of a hit whatever the corpus's size (`data prepare`). */
  readonly verbose?: boolean;
  /** Polled between pieces: true (Ctrl-C in a training) abandons the preparation, caching nothing. */
  readonly shouldStop?: () => boolean;
  /** On a hit, hash the token files against their manifest too (`data prepare --verify`); a mismatch is prepared again. */
  readonly verify?: boolean;
}

export interface Prepared {
  readonly corpus: CorpusRecord;
  readonly files: CorpusFiles;
  readonly entry: CacheEntry;
  readonly tokenizer: Tokenizer;
  readonly train: TokenSource;
  readonly val: TokenSource;
  readonly hit: boolean;
}

/** Corpora this large (bytes) say what the preparation did; smaller ones prepare silently, as before. */
const SAY_FROM = 4 * 2 ** 20;
/** Megabytes as the progress bars and the summary count them (10^6 bytes, as corpora are sized). */
const MB = 1e6;

export function tokenizerName(t: TokenizerSpec): string {
  return typeof t === "string" ? t : `bpe ${t.vocab_size.toLocaleString("en-US")}`;
}

function tokenizerIdentity(choice: TokenizerChoice): unknown {
  if ("fixed" in choice) return { fixed: createHash("sha256").update(canonicalJson(choice.fixed)).digest("hex") };
  const t = choice.learn;
  if (t === "char") return { type: "char" };
  if (t === "gpt2") return { type: "gpt2", compact: choice.compact };
  return { type: "bpe", vocab_size: t.vocab_size };
}

/** A learned BPE (or a run's) is split in bytes before it learns; char and GPT-2 by tokens. */
const splitsInBytes = (choice: TokenizerChoice): boolean =>
  "fixed" in choice ? choice.fixed.kind === "bpe" : typeof choice.learn === "object";

/** The text bytes of a file: its size, or for .gz the size its trailer records. */
function textBytes(file: CorpusFile): number {
  if (!file.gzip || file.size < 18) return file.size;
  const fd = openSync(file.path, "r");
  try {
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, file.size - 4);
    return b.readUInt32LE(0);
  } finally {
    closeSync(fd);
  }
}

/** Appends token ids to a file of the build, dropping the end-of-text id that would open it. */
class TokenWriter {
  readonly #fd: number;
  tokens = 0;
  constructor(readonly path: string) {
    this.#fd = openSync(path, "w", 0o600);
  }
  /** Writes the ids (less an opening end-of-text id) and returns what it wrote. */
  write(ids: Uint16Array | Uint32Array, eot: number | null): Uint16Array | Uint32Array {
    let from = 0;
    if (this.tokens === 0 && eot !== null && ids.length > 0 && ids[0] === eot) from = 1;
    const part = ids.subarray(from);
    if (part.length === 0) return part;
    const bytes = Buffer.from(part.buffer, part.byteOffset, part.byteLength);
    for (let off = 0; off < bytes.length; ) off += writeSync(this.#fd, bytes, off, bytes.length - off);
    this.tokens += part.length;
    return part;
  }
  close(): void {
    fsyncSync(this.#fd);
    closeSync(this.#fd);
  }
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** What differs between an entry's token files and the sha256 its manifest records, if anything. */
async function hashMismatch(entry: CacheEntry): Promise<string | undefined> {
  for (const split of ["train", "val"] as const) {
    const actual = await sha256File(entry[split]);
    const recorded = entry.manifest.files[split].sha256;
    if (actual !== recorded) return `${split}.bin has sha256 ${actual.slice(0, 12)}…, its manifest says ${recorded.slice(0, 12)}…`;
  }
  return undefined;
}

/** Rewrites a token file in place through `map` (compacting a vocabulary), in blocks. */
function remapFile(path: string, dtype: TokenDtype, map: (id: number) => number): void {
  const width = bytesPerToken(dtype);
  const fd = openSync(path, "r+");
  try {
    const size = statSync(path).size;
    const buf = Buffer.alloc(4 << 20);
    for (let pos = 0; pos < size; pos += buf.length) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
      for (let i = 0; i < n; i += width) {
        if (width === 2) buf.writeUInt16LE(map(buf.readUInt16LE(i)), i);
        else buf.writeUInt32LE(map(buf.readUInt32LE(i)), i);
      }
      writeSync(fd, buf, 0, n, pos);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The last val_fraction of the tokens of `all` moved to `val`; `all` becomes `train`. Returns the counts. */
function splitByTokens(all: string, train: string, val: string, dtype: TokenDtype, valFraction: number): { train: number; val: number } {
  const width = bytesPerToken(dtype);
  const total = statSync(all).size / width;
  const n = Math.floor((1 - valFraction) * total);
  const src = openSync(all, "r+");
  const dst = openSync(val, "w", 0o600);
  try {
    const buf = Buffer.alloc(4 << 20);
    for (let pos = n * width; pos < total * width; ) {
      const got = readSync(src, buf, 0, Math.min(buf.length, total * width - pos), pos);
      writeSync(dst, buf, 0, got);
      pos += got;
    }
    fsyncSync(dst);
    ftruncateSync(src, n * width);
    fsyncSync(src);
  } finally {
    closeSync(src);
    closeSync(dst);
  }
  renameSync(all, train);
  return { train: n, val: total - n };
}

interface PassCounts {
  docs: number;
  emptyDocs: number;
}

/**
 * One pass of the workers over the corpus (or one side of it). `onIds` gets each piece's token ids, in
 * order, with the side they belong to.
 */
async function pass(
  what: string,
  job: WorkerJob,
  files: readonly CorpusFile[],
  ctx: { textField: string; workers: number; totalBytes: number; report: PrepareReporter | undefined; shouldStop: (() => boolean) | undefined; label: string },
  options: { split?: ByteSplit; only?: Side; onResult?: (r: { ids?: Uint16Array | Uint32Array; chunks?: string[]; counts?: Uint32Array }, side: Side) => void; chars?: (codePoints: number[]) => void },
): Promise<PassCounts> {
  const pool = new WorkerPool(ctx.workers, job);
  const counts: PassCounts = { docs: 0, emptyDocs: 0 };
  const started = performance.now();
  const totalMB = Math.max(1, Math.round(ctx.totalBytes / MB));
  let lastShown = 0;
  let shownDone = -1;
  try {
    await pool.run(corpusPieces(files, ctx.textField, options.split, options.only), (result, item) => {
      if (ctx.shouldStop?.()) throw new UserError(`stopped while preparing the tokens of ${ctx.label}: nothing was cached (the next run prepares them again)`);
      counts.docs += result.docs;
      counts.emptyDocs += result.empty;
      options.onResult?.(result, item.side);
      const now = performance.now();
      if (ctx.report?.progress && (now - lastShown > 200 || item.read >= ctx.totalBytes)) {
        lastShown = now;
        const rate = item.read / MB / Math.max(1e-3, (now - started) / 1000);
        shownDone = Math.min(totalMB, Math.round(item.read / MB));
        ctx.report.progress(what, shownDone, totalMB, `${rate.toFixed(1)} MB/s`);
      }
    });
    if (options.chars) options.chars(await pool.codePoints());
  } finally {
    await pool.close();
  }
  if (shownDone < totalMB) ctx.report?.progress?.(what, totalMB, totalMB, "");
  return counts;
}

/** The tokenizer (as its state), its encoder for the workers, and how a build encodes, for each choice. */
interface Plan {
  readonly state: TokenizerState;
  readonly vocabSize: number;
  readonly eot: number | null;
  readonly encoder: WorkerEncoder;
}

function gpt2Encoder(): WorkerEncoder {
  return { kind: "ranks", bpe_ranks: gpt2Ranks.bpe_ranks, special_tokens: gpt2Ranks.special_tokens, pat_str: gpt2Ranks.pat_str, eot: GPT2_END_OF_TEXT };
}

function fixedPlan(state: TokenizerState): Plan {
  const tok = tokenizerFromState(state);
  switch (state.kind) {
    case "char": {
      const eot = state.eot ? Array.from(state.chars).length : null;
      return { state, vocabSize: tok.vocabSize, eot, encoder: { kind: "char", chars: state.chars, eot } };
    }
    case "gpt2":
      return { state, vocabSize: tok.vocabSize, eot: GPT2_END_OF_TEXT, encoder: gpt2Encoder() };
    case "bpe": {
      const ranks = bpeRanks(state.merges);
      const eot = tok.vocabSize - 1;
      return { state, vocabSize: tok.vocabSize, eot, encoder: { kind: "ranks", ...ranks, eot } };
    }
  }
}

/**
 * The token cache entry for a corpus and tokenizer: found, or prepared now. Throws a UserError, with
 * nothing cached, for bad input.
 */
export async function prepareData(options: PrepareOptions): Promise<Prepared> {
  const report = options.report;
  const textField = options.textField ?? "text";
  const showHashing = report?.progress ? (done: number, total: number) => total >= SAY_FROM && report.progress!("hash", Math.round(done / MB), Math.max(1, Math.round(total / MB)), "") : undefined;
  const changed: string[] = [];
  const { files, hashes, record: corpus } = await locateCorpus({
    data: options.data,
    textField,
    ...(options.download === false ? { download: false } : {}),
    ...(showHashing ? { onHash: showHashing } : {}),
    onChanged: (path, was, now) => changed.push(`${path} has changed since it was last read (sha256 ${was.slice(0, 12)}… → ${now.slice(0, 12)}…)`),
  });
  const cache = tokenCacheDir();
  const totalBytes = files.files.reduce((n, f) => n + textBytes(f), 0);
  const say = options.verbose === true || totalBytes >= SAY_FROM;
  const jsonl = files.files.some((f) => f.format === "jsonl");
  const identity = (choice: TokenizerChoice): unknown => ({
    format: TOKENS_FORMAT,
    sources: files.files.map((f, i) => [hashes[i], f.format, f.gzip]),
    ...(jsonl ? { textField } : {}),
    tokenizer: tokenizerIdentity(choice),
    valFraction: options.valFraction,
  });
  const damaged = (why: string): void => report?.log(`the token cache entry ${why}; preparing it again`);
  const use = (entry: CacheEntry, hit: boolean): Prepared => {
    const m = entry.manifest;
    if (hit && say) report?.log(`tokens: ${m.tokens.train.toLocaleString("en-US")} train / ${m.tokens.val.toLocaleString("en-US")} val from the cache (${entry.dir})`);
    return { corpus, files, entry, tokenizer: tokenizerFromState(m.tokenizer), train: fileTokens(entry.train, m.dtype), val: fileTokens(entry.val, m.dtype), hit };
  };
  const choice = options.tokenizer;
  // A run's own tokenizer: the spec's entry serves when it holds this very tokenizer (the usual resume).
  if ("fixed" in choice && choice.learned) {
    const entry = openEntry(cache, cacheKey(identity(choice.learned)), damaged);
    if (entry && canonicalJson(entry.manifest.tokenizer) === canonicalJson(choice.fixed)) return use(entry, true);
  }
  const key = cacheKey(identity(choice));
  const found = openEntry(cache, key, damaged);
  const mismatch = found && options.verify ? await hashMismatch(found) : undefined;
  if (found && mismatch) {
    damaged(`${found.dir}: ${mismatch}`);
    rmSync(found.dir, { recursive: true, force: true });
  } else if (found) return use(found, true);
  for (const line of changed) report?.log(`${line}; preparing its tokens again`);

  for (const name of removeDeadBuilds(cache)) report?.log(`removed ${join(cache, name)}, left by a preparation that did not finish`);
  const started = performance.now();
  const build = buildDir(cache, key);
  const workers = options.workers ?? defaultWorkers();
  const ctx = { textField, workers, totalBytes, report: say ? report : undefined, shouldStop: options.shouldStop, label: files.label };
  try {
    const byBytes = splitsInBytes(choice);
    const multiDoc = files.files.length > 1 || jsonl;
    const split: ByteSplit | undefined = byBytes ? { at: Math.floor((1 - options.valFraction) * totalBytes), oneDocument: !multiDoc } : undefined;
    let docs = 0;
    let emptyDocs = 0;
    let plan: Plan;
    if ("fixed" in choice) plan = fixedPlan(choice.fixed);
    else if (choice.learn === "char") {
      let codePoints: number[] = [];
      const scanned = await pass("characters", { job: "chars" }, files.files, ctx, { chars: (c) => (codePoints = c) });
      const chars = String.fromCodePoint(...codePoints);
      const eot = scanned.docs > 1 ? codePoints.length : null;
      plan = { state: eot === null ? { kind: "char", chars } : { kind: "char", chars, eot: true }, vocabSize: codePoints.length + (eot === null ? 0 : 1), eot, encoder: { kind: "char", chars, eot } };
    } else if (choice.learn === "gpt2") {
      plan = { state: { kind: "gpt2", compact: null }, vocabSize: GPT2_VOCAB, eot: GPT2_END_OF_TEXT, encoder: gpt2Encoder() };
    } else {
      const wanted = choice.learn.vocab_size;
      const chunks = new ChunkCounts();
      await pass("chunks", { job: "count" }, files.files, ctx, { split: split!, only: "train", onResult: (r) => chunks.add(r.chunks!, r.counts!) });
      const mergesWanted = wanted - 257;
      let shown = 0;
      const merges = learnMerges(chunks.counts, mergesWanted, (done) => {
        if (ctx.report?.progress && (done - shown >= 64 || done === mergesWanted)) {
          shown = done;
          ctx.report.progress("merges", done, mergesWanted, "");
        }
      });
      const state: BpeState = { kind: "bpe", merges };
      if (merges.length / 2 < mergesWanted && say) report?.log(`the training text offers ${merges.length / 2} merges, not ${mergesWanted}: the vocabulary has ${256 + merges.length / 2 + 1} tokens`);
      plan = fixedPlan(state);
    }
    const compact = !("fixed" in choice) && choice.learn === "gpt2" && choice.compact;
    const fixedCompact = "fixed" in choice && choice.fixed.kind === "gpt2" ? choice.fixed.compact : null;
    // a compacted vocabulary encodes as GPT-2 (ids below 65,536) and is rewritten afterwards
    const dtype = compact || fixedCompact ? "uint16" : dtypeFor(plan.vocabSize);
    const seen = compact ? new Uint8Array(GPT2_VOCAB) : undefined;
    const writers: { all?: TokenWriter; train?: TokenWriter; val?: TokenWriter } = byBytes ? { train: new TokenWriter(join(build, "train.bin")), val: new TokenWriter(join(build, "val.bin")) } : { all: new TokenWriter(join(build, "all.bin")) };
    const encoded = await pass("tokenize", { job: "encode", encoder: plan.encoder, dtype }, files.files, ctx, {
      ...(split ? { split } : {}),
      onResult: (r, side) => {
        const ids = (writers.all ?? writers[side])!.write(r.ids!, plan.eot);
        if (seen) for (let i = 0; i < ids.length; i++) seen[ids[i]!] = 1;
      },
    });
    docs = encoded.docs;
    emptyDocs = encoded.emptyDocs;
    for (const w of [writers.all, writers.train, writers.val]) w?.close();
    let state = plan.state;
    let vocabSize = plan.vocabSize;
    if (seen) {
      // the end-of-text id stays in a compacted vocabulary of several documents
      const used: number[] = [];
      seen.forEach((v, id) => v && used.push(id));
      const index = new Int32Array(GPT2_VOCAB).fill(-1);
      used.forEach((id, i) => (index[id] = i));
      remapFile(join(build, "all.bin"), dtype, (id) => index[id]!);
      state = { kind: "gpt2", compact: used };
      vocabSize = used.length;
    } else if (fixedCompact) {
      const index = new Int32Array(GPT2_VOCAB).fill(-1);
      fixedCompact.forEach((id, i) => (index[id] = i));
      remapFile(join(build, "all.bin"), dtype, (id) => {
        if (index[id]! < 0) throw new UserError(`the corpus holds the GPT-2 token ${JSON.stringify(tokenizerFromState({ kind: "gpt2", compact: null }).decode([id]))} (id ${id}), which the run's compacted vocabulary does not have`);
        return index[id]!;
      });
    }
    const counts = byBytes
      ? { train: writers.train!.tokens, val: writers.val!.tokens }
      : splitByTokens(join(build, "all.bin"), join(build, "train.bin"), join(build, "val.bin"), dtype, options.valFraction);
    if (state.kind === "bpe") {
      const { tokenizerJson } = await import("./tokenizer-json.js");
      writeFileSync(join(build, "tokenizer.json"), tokenizerJson(state), { mode: 0o600 });
    }
    const width = bytesPerToken(dtype);
    const seconds = (performance.now() - started) / 1000;
    const sources: SourceRecord[] = files.files.map((f, i) => ({ path: f.path, bytes: f.size, sha256: hashes[i]!, format: f.format, gzip: f.gzip }));
    const manifest: Manifest = {
      format: TOKENS_FORMAT,
      key,
      identity: identity(choice),
      tokenizer: state,
      vocabSize,
      dtype,
      tokens: counts,
      split: byBytes
        ? { rule: "bytes", valFraction: options.valFraction, description: multiDoc ? `at the first document starting at or after byte ${split!.at.toLocaleString("en-US")} of ${totalBytes.toLocaleString("en-US")}` : `after the first newline at or after byte ${split!.at.toLocaleString("en-US")} of ${totalBytes.toLocaleString("en-US")}` }
        : { rule: "tokens", valFraction: options.valFraction, description: `the last ${options.valFraction} of the tokens` },
      corpus,
      sources,
      documents: docs,
      emptyFiles: files.empty.length,
      emptyDocuments: emptyDocs,
      files: { train: { bytes: counts.train * width, sha256: await sha256File(join(build, "train.bin")) }, val: { bytes: counts.val * width, sha256: await sha256File(join(build, "val.bin")) } },
      preparedAt: new Date().toISOString(),
      seconds,
    };
    writeFileSync(join(build, "manifest.json"), `${JSON.stringify(manifest, null, 1)}\n`, { mode: 0o600 });
    const entry = commitEntry(cache, build, manifest);
    if (say) {
      const empty = [files.empty.length ? `${files.empty.length} empty file${files.empty.length === 1 ? "" : "s"} skipped` : "", emptyDocs ? `${emptyDocs} empty document${emptyDocs === 1 ? "" : "s"} skipped` : ""].filter(Boolean).join(", ");
      report?.log(
        `prepared ${files.label}: ${files.files.length} file${files.files.length === 1 ? "" : "s"}${empty ? ` (${empty})` : ""}, ${docs.toLocaleString("en-US")} document${docs === 1 ? "" : "s"}, ${(totalBytes / MB).toFixed(1)} MB → ${counts.train.toLocaleString("en-US")} train / ${counts.val.toLocaleString("en-US")} val tokens, vocab ${vocabSize.toLocaleString("en-US")} (${state.kind}), in ${seconds.toFixed(1)} s (${(totalBytes / MB / seconds).toFixed(1)} MB/s); ${entry.dir}`,
      );
    }
    return use(entry, false);
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
}

// A worker thread of `babygpt data prepare` (runtime/data/prepare.ts): it takes pieces of the corpus (raw
// bytes, cut where a token cannot span the cut) and, depending on its job, checks them and collects their
// characters (the char tokenizer's vocabulary), counts their pre-tokenizer chunks (learning a BPE), or
// encodes them into token ids. Every bad input is reported with its place: file and byte offset, or file
// and line for JSON lines.
import { parentPort } from "node:worker_threads";
import { Tiktoken } from "tiktoken/lite";
import { GPT2_PATTERN } from "./byte-level.js";
import { firstInvalidUtf8 } from "./corpus.js";
import type { FileFormat } from "./corpus-files.js";

export type WorkerJob =
  | { readonly job: "chars" }
  | { readonly job: "count" }
  | { readonly job: "encode"; readonly encoder: WorkerEncoder; readonly dtype: "uint16" | "uint32" };

export type WorkerEncoder =
  | { readonly kind: "char"; readonly chars: string; readonly eot: number | null }
  | { readonly kind: "ranks"; readonly bpe_ranks: string; readonly special_tokens: Record<string, number>; readonly pat_str: string; readonly eot: number };

export interface Piece {
  readonly id: number;
  readonly format: FileFormat;
  readonly bytes: Uint8Array;
  readonly file: string;
  /** Where the piece starts in the file (in the decompressed text for .gz). */
  readonly offset: number;
  readonly gzip: boolean;
  /** jsonl: the line the piece starts on (1-based). */
  readonly line: number;
  /** text: the piece starts a document (a file's first piece). */
  readonly docStart: boolean;
  readonly textField: string;
}

export type PieceResult =
  | { readonly id: number; readonly docs: number; readonly empty: number; readonly ids?: Uint16Array | Uint32Array; readonly chunks?: string[]; readonly counts?: Uint32Array }
  | { readonly id: number; readonly error: string };

export type WorkerRequest = { readonly type: "init"; readonly job: WorkerJob } | { readonly type: "piece"; readonly piece: Piece } | { readonly type: "flush" };
export type WorkerReply = { readonly type: "result"; readonly result: PieceResult } | { readonly type: "chars"; readonly codePoints: number[] };

class PieceError extends Error {}

/** Distinct chunks a worker keeps the ids of (a bound on its memory: about 100 bytes each). */
const CHUNK_CACHE = 1 << 20;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The text of bytes [from, to) of a piece, or a located error. */
function decode(p: Piece, from: number, to: number, line?: number): string {
  const bytes = p.bytes.subarray(from, to);
  const where = p.gzip ? " of the decompressed text" : "";
  if (bytes.includes(0)) {
    if (line !== undefined) throw new PieceError(`${p.file}:${line}: the line holds a NUL byte; a corpus must be UTF-8 text`);
    throw new PieceError(`${p.file} looks binary (it contains NUL bytes); a corpus must be UTF-8 text`);
  }
  try {
    return utf8.decode(bytes);
  } catch {
    const at = p.offset + from + firstInvalidUtf8(bytes);
    if (line !== undefined) throw new PieceError(`${p.file}:${line}: not valid UTF-8 (byte offset ${at}${where}); convert it, e.g. with iconv -t UTF-8`);
    throw new PieceError(`${p.file} is not valid UTF-8 (first bad byte at offset ${at}${where}); convert it, e.g. with iconv -t UTF-8`);
  }
}

/** The piece's documents as text: a text piece is (part of) one; a jsonl piece is whole lines, each one. */
function documents(p: Piece, each: (text: string, docStart: boolean, at: { line?: number; from: number }) => void): { docs: number; empty: number } {
  if (p.format === "text") {
    each(decode(p, 0, p.bytes.length), p.docStart, { from: 0 });
    return { docs: p.docStart ? 1 : 0, empty: 0 };
  }
  let docs = 0;
  let empty = 0;
  let line = p.line;
  for (let from = 0; from < p.bytes.length; line++) {
    let to = p.bytes.indexOf(0x0a, from);
    if (to < 0) to = p.bytes.length;
    const raw = decode(p, from, to, line);
    if (raw.trim() !== "") {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (e) {
        throw new PieceError(`${p.file}:${line}: not a JSON value (${(e as Error).message}); each line of a .jsonl file is one JSON object`);
      }
      const text = value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>)[p.textField] : undefined;
      if (typeof text !== "string") {
        throw new PieceError(`${p.file}:${line}: no "${p.textField}" string in this line's JSON${p.textField === "text" ? "; name the field that holds the text with --text-field" : ""}`);
      }
      if (text === "") empty++;
      else {
        docs++;
        each(text, true, { line, from });
      }
    }
    from = to + 1;
  }
  return { docs, empty };
}

/**
 * Byte-level BPE by the pre-tokenizer's chunks, each encoded once (by `encodeChunk`, tiktoken's) and then
 * looked up: text repeats its words, and tiktoken splits a text by the same pattern (js-tiktoken's, so the
 * same chunks) and encodes each chunk on its own anyway. The bench of encoders (bench/tokenizers.ts)
 * measures it against tiktoken on whole pieces.
 */
export function chunkEncoder(encodeChunk: (chunk: string) => Uint32Array, pattern: string): (text: string) => Uint32Array {
  const re = new RegExp(pattern, "gu");
  const cache = new Map<string, number | Uint32Array>();
  return (text) => {
    let out = new Uint32Array(Math.max(16, text.length >> 1));
    let n = 0;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const chunk = m[0];
      let ids = cache.get(chunk);
      if (ids === undefined) {
        const encoded = encodeChunk(chunk);
        ids = encoded.length === 1 ? encoded[0]! : encoded;
        if (cache.size < CHUNK_CACHE) cache.set(chunk, ids);
      }
      const width = typeof ids === "number" ? 1 : ids.length;
      if (n + width > out.length) {
        const grown = new Uint32Array(Math.max(out.length * 2, n + width));
        grown.set(out.subarray(0, n));
        out = grown;
      }
      if (typeof ids === "number") out[n++] = ids;
      else {
        out.set(ids, n);
        n += ids.length;
      }
    }
    return out.subarray(0, n);
  };
}

function charJob(): { run(p: Piece): PieceResult; flush(): number[] } {
  const seen = new Uint8Array(0x110000);
  return {
    run(p) {
      const counted = documents(p, (text) => {
        // code units, not the string iterator (several times faster): a high surrogate reads its pair
        for (let i = 0; i < text.length; i++) {
          const u = text.charCodeAt(i);
          if (u >= 0xd800 && u < 0xdc00) {
            seen[text.codePointAt(i)!] = 1;
            i++;
          } else seen[u] = 1;
        }
      });
      return { id: p.id, ...counted };
    },
    flush: () => {
      const out: number[] = [];
      seen.forEach((v, cp) => v && out.push(cp));
      return out;
    },
  };
}

function countJob(): (p: Piece) => PieceResult {
  const re = new RegExp(GPT2_PATTERN, "gu");
  return (p) => {
    const counts = new Map<string, number>();
    const counted = documents(p, (text) => {
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
    });
    return { id: p.id, ...counted, chunks: [...counts.keys()], counts: Uint32Array.from(counts.values()) };
  };
}

function encodeJob(encoder: WorkerEncoder, dtype: "uint16" | "uint32"): (p: Piece) => PieceResult {
  let encode: (text: string, file: string, line: number | undefined) => ArrayLike<number>;
  let eot: number | null;
  if (encoder.kind === "char") {
    const table = new Int32Array(0x110000).fill(-1);
    Array.from(encoder.chars).forEach((c, i) => (table[c.codePointAt(0)!] = i));
    const size = Array.from(encoder.chars).length;
    eot = encoder.eot;
    encode = (text, file, line) => {
      const out = new Int32Array(text.length);
      let n = 0;
      for (let i = 0; i < text.length; i++) {
        let cp = text.charCodeAt(i);
        if (cp >= 0xd800 && cp < 0xdc00) cp = text.codePointAt(i++)!;
        const id = table[cp]!;
        if (id < 0) {
          throw new PieceError(`${file}${line !== undefined ? `:${line}` : ""}: the character ${JSON.stringify(String.fromCodePoint(cp))} (U+${cp.toString(16).toUpperCase().padStart(4, "0")}) is not in the model's vocabulary of ${size} characters`);
        }
        out[n++] = id;
      }
      return out.subarray(0, n);
    };
  } else {
    const tiktoken = new Tiktoken(encoder.bpe_ranks, encoder.special_tokens, encoder.pat_str);
    eot = encoder.eot;
    // encode_ordinary: <|endoftext|> written in a document is text, as nanoGPT's prepare scripts encode it
    encode = chunkEncoder((chunk) => tiktoken.encode_ordinary(chunk), encoder.pat_str);
  }
  return (p) => {
    const parts: ArrayLike<number>[] = [];
    let length = 0;
    const counted = documents(p, (text, docStart, at) => {
      if (docStart && eot !== null) {
        parts.push([eot]); // before every document; prepare.ts drops the corpus's first
        length += 1;
      }
      const ids = encode(text, p.file, at.line);
      parts.push(ids);
      length += ids.length;
    });
    const ids = dtype === "uint16" ? new Uint16Array(length) : new Uint32Array(length);
    let at = 0;
    for (const part of parts) {
      ids.set(part, at);
      at += part.length;
    }
    return { id: p.id, ...counted, ids };
  };
}

if (parentPort) {
  const port = parentPort;
  let run: ((p: Piece) => PieceResult) | undefined;
  let flush: (() => number[]) | undefined;
  port.on("message", (m: WorkerRequest) => {
    switch (m.type) {
      case "init": {
        const job = m.job;
        switch (job.job) {
          case "chars": {
            const j = charJob();
            run = j.run;
            flush = j.flush;
            break;
          }
          case "count":
            run = countJob();
            break;
          case "encode":
            run = encodeJob(job.encoder, job.dtype);
            break;
        }
        return;
      }
      case "piece": {
        let result: PieceResult;
        try {
          result = run!(m.piece);
        } catch (e) {
          if (!(e instanceof PieceError)) throw e;
          result = { id: m.piece.id, error: e.message };
        }
        const transfer = "ids" in result && result.ids ? [result.ids.buffer as ArrayBuffer] : [];
        port.postMessage({ type: "result", result } satisfies WorkerReply, transfer);
        return;
      }
      case "flush":
        port.postMessage({ type: "chars", codePoints: flush?.() ?? [] } satisfies WorkerReply);
        return;
    }
  });
}

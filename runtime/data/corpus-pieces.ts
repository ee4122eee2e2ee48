// The corpus read once, front to back, as pieces for the prepare workers: each file's bytes (gunzipped for
// .gz) in blocks, cut where no token can span the cut, so that encoding the pieces one by one gives the
// tokens of the whole. A text document is cut just before a whitespace byte that follows a visible ASCII
// character: GPT-2's pre-tokenizer (and so every byte-level BPE here) always ends a chunk there, and no cut
// falls inside a UTF-8 character. A .jsonl file is cut after a line. Memory: a block and its carry.
import { open } from "node:fs/promises";
import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import { UserError } from "../errors.js";
import type { CorpusFile } from "./corpus-files.js";
import type { Piece } from "./prepare-worker.js";

/** Bytes read at a time, and so about the size of a piece. */
const BLOCK = 4 << 20;
/** A text with no cut point in this many bytes is cut at a character boundary instead. */
const MAX_PIECE = 64 << 20;

export type Side = "train" | "val";

/**
 * Where a split in bytes falls (learned BPE: the split is made before the tokenizer learns): the first
 * document that starts at or after `at` bytes of the corpus goes to val with everything after it; a corpus
 * of one document splits after the first newline at or after `at`.
 */
export interface ByteSplit {
  readonly at: number;
  readonly oneDocument: boolean;
}

export interface SidedPiece {
  readonly piece: Piece;
  readonly side: Side;
  /** Bytes of the corpus read so far, of `total`. */
  readonly read: number;
}

/** A file's bytes in blocks; a file that cannot be read, or gunzipped, is one line naming it. */
async function* blocks(file: CorpusFile): AsyncGenerator<Uint8Array> {
  try {
    yield* rawBlocks(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (file.gzip && typeof err.errno === "number" && err.code?.startsWith("Z_")) throw new UserError(`${file.path} is not a whole gzip file (${err.message}); recompress it, or give the text uncompressed`);
    if (err.code) throw new UserError(`cannot read ${file.path}: ${err.code}`);
    throw e;
  }
}

async function* rawBlocks(file: CorpusFile): AsyncGenerator<Uint8Array> {
  if (file.gzip) {
    let parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of createReadStream(file.path).pipe(createGunzip())) {
      parts.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= BLOCK) {
        yield new Uint8Array(Buffer.concat(parts, size));
        parts = [];
        size = 0;
      }
    }
    if (size > 0) yield new Uint8Array(Buffer.concat(parts, size));
    return;
  }
  const handle = await open(file.path, "r");
  try {
    for (;;) {
      const block = new Uint8Array(BLOCK);
      const { bytesRead } = await handle.read(block, 0, BLOCK, null);
      if (bytesRead === 0) return;
      yield bytesRead === BLOCK ? block : block.slice(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

const visible = (b: number): boolean => b >= 0x21 && b <= 0x7e;
const space = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x09 || b === 0x0d;

/** The last place in bytes where a text piece may end (see the file's comment), or -1. */
function textCut(bytes: Uint8Array): number {
  for (let i = bytes.length - 1; i > 0; i--) if (space(bytes[i]!) && visible(bytes[i - 1]!)) return i;
  if (bytes.length < MAX_PIECE) return -1;
  for (let i = bytes.length - 1; i > 0; i--) if ((bytes[i]! & 0xc0) !== 0x80) return i; // a character's first byte
  return -1;
}

/** After the last newline, or -1. */
function lineCut(bytes: Uint8Array): number {
  const i = bytes.lastIndexOf(0x0a);
  return i < 0 ? -1 : i + 1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function countLines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) n++;
  return n;
}

/**
 * Every piece of the corpus in order, each with the split side it belongs to (all "train" without a byte
 * split) and a running count of bytes read. `only` drops the other side's pieces.
 */
export async function* corpusPieces(files: readonly CorpusFile[], textField: string, split?: ByteSplit, only?: Side): AsyncGenerator<SidedPiece> {
  let id = 0;
  let read = 0; // bytes of the corpus read before the current block
  let side: Side = "train";
  const emit = function* (file: CorpusFile, bytes: Uint8Array, offset: number, line: number, docStart: boolean, at: number): Generator<SidedPiece> {
    if (bytes.length === 0) return;
    if (only !== undefined && side !== only) return;
    yield { piece: { id: id++, format: file.format, bytes, file: file.path, offset, gzip: file.gzip, line, docStart, textField }, side, read: at };
  };
  for (const file of files) {
    let carry: Uint8Array = new Uint8Array(0);
    let offset = 0; // of carry's first byte in the file
    let line = 1;
    let docStart = true;
    const base = read; // the corpus position of the file's first byte
    // a text document: the split decides at the document's start
    if (split && !split.oneDocument && side === "train" && file.format === "text" && base >= split.at) side = "val";
    const flush = function* (bytes: Uint8Array): Generator<SidedPiece> {
      let piece = bytes;
      // A split inside this piece: jsonl at the first line starting at or after the split; one document
      // after the first newline at or after it.
      if (split && side === "train" && (file.format === "jsonl" || split.oneDocument)) {
        const from = Math.max(0, split.at - (base + offset));
        if (from <= piece.length) {
          let cut = -1;
          if (file.format === "jsonl") {
            if (from === 0) cut = 0;
            else {
              const nl = piece.indexOf(0x0a, from - 1);
              cut = nl < 0 ? -1 : nl + 1;
            }
          } else {
            const nl = piece.indexOf(0x0a, from);
            cut = nl < 0 ? -1 : nl + 1;
          }
          if (cut >= 0) {
            const head = piece.subarray(0, cut);
            yield* emit(file, head.slice(), offset, line, docStart, base + offset + cut);
            line += countLines(head);
            offset += cut;
            docStart = docStart && cut === 0;
            piece = piece.subarray(cut);
            side = "val";
          }
        }
      }
      yield* emit(file, piece.slice(), offset, line, docStart, base + offset + piece.length);
      if (file.format === "jsonl") line += countLines(piece);
      offset += piece.length;
      docStart = false;
    };
    for await (const block of blocks(file)) {
      const bytes = concat(carry, block);
      const cut = file.format === "jsonl" ? lineCut(bytes) : textCut(bytes);
      if (cut <= 0) {
        carry = bytes;
        continue;
      }
      yield* flush(bytes.subarray(0, cut));
      carry = bytes.slice(cut);
    }
    if (carry.length > 0) yield* flush(carry);
    read = base + offset;
  }
}

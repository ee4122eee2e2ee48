// Tokenizers: characters (the vocabulary is the corpus's sorted distinct characters, and an end-of-text id
// after them where the corpus has several documents), GPT-2's BPE through js-tiktoken, whose ranks ship
// inside the package (no download at run time), and a byte-level BPE learned on the corpus
// (bpe-tokenizer.ts). For a small corpus the GPT-2 vocabulary can be compacted to the tokens that occur. A
// tokenizer's state is plain JSON, stored with each run so sampling decodes with exactly the vocabulary the
// model was trained on.
import { Tiktoken } from "js-tiktoken/lite";
import gpt2Ranks from "js-tiktoken/ranks/gpt2";
import type { DataSpec } from "../../compiler/index.js";
import { UserError } from "../errors.js";
import { END_OF_TEXT } from "./byte-level.js";
import { bpeCodec, type BpeCodec, type BpeState } from "./bpe-tokenizer.js";

export type TokenizerState =
  | { readonly kind: "char"; readonly chars: string; /** an end-of-text id after the characters (a corpus of several documents) */ readonly eot?: boolean }
  | { readonly kind: "gpt2"; readonly compact: readonly number[] | null }
  | BpeState;

export type TokenizerKind = TokenizerState["kind"];

/** Progress of a long encoding: characters done of the total. */
export type EncodeProgress = (done: number, total: number) => void;

/** Text from one token at a time, each token's bytes decoded once (a BPE token can end mid-character). */
export interface StreamDecoder {
  /** The text this token completes (empty while a character is still cut short). */
  push(id: number): string;
  /** What is left at the end: an unfinished character becomes U+FFFD, as decode() would give it. */
  end(): string;
}

export interface Tokenizer {
  readonly kind: TokenizerKind;
  readonly vocabSize: number;
  encode(text: string, onProgress?: EncodeProgress): Int32Array;
  decode(ids: ArrayLike<number>): string;
  decoder(): StreamDecoder;
  state(): TokenizerState;
}

export const GPT2_VOCAB = 50_257;
/** GPT-2's <|endoftext|>. */
export const GPT2_END_OF_TEXT = 50_256;

class CharTokenizer implements Tokenizer {
  readonly kind = "char";
  readonly vocabSize: number;
  readonly #chars: string[];
  readonly #index = new Map<string, number>();
  readonly #eot: boolean;

  constructor(chars: readonly string[], eot = false) {
    this.#chars = [...chars];
    this.#chars.forEach((c, i) => this.#index.set(c, i));
    this.#eot = eot;
    this.vocabSize = chars.length + (eot ? 1 : 0);
  }

  encode(text: string): Int32Array {
    const chars = Array.from(text);
    const out = new Int32Array(chars.length);
    chars.forEach((c, i) => {
      const id = this.#index.get(c);
      if (id === undefined) {
        throw new UserError(`the character ${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}) at position ${i} is not in the model's vocabulary of ${this.vocabSize} characters`);
      }
      out[i] = id;
    });
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    let s = "";
    for (let i = 0; i < ids.length; i++) s += this.#text(ids[i]!);
    return s;
  }

  decoder(): StreamDecoder {
    return { push: (id) => this.#text(id), end: () => "" };
  }

  #text(id: number): string {
    return this.#chars[id] ?? (this.#eot && id === this.#chars.length ? END_OF_TEXT : "\uFFFD");
  }

  state(): TokenizerState {
    return this.#eot ? { kind: "char", chars: this.#chars.join(""), eot: true } : { kind: "char", chars: this.#chars.join("") };
  }
}

let bpe: Tiktoken | undefined;
const gpt2 = (): Tiktoken => (bpe ??= new Tiktoken(gpt2Ranks));

/** Characters per piece of a long text encoded with GPT-2's BPE (a progress step). */
const CHUNK = 1 << 20;

/**
 * The end of the next piece of `text` from `start`: a newline right after a character that is not
 * whitespace. GPT-2's pre-tokenizer never puts a non-space and the whitespace after it in one match
 * (only a leading space joins a word), so a match always ends there, and encoding the pieces one by one
 * gives exactly the tokens of the whole.
 */
function pieceEnd(text: string, start: number, chars: number): number {
  if (start + chars >= text.length) return text.length;
  let i = text.indexOf("\n", start + chars);
  while (i !== -1 && /\s/u.test(text[i - 1]!)) i = text.indexOf("\n", i + 1);
  return i === -1 ? text.length : i;
}

/** GPT-2 ids of `text`, encoded piece by piece (about `pieceChars` each) with progress; the same ids as one encode() call. */
export function encodeGpt2(text: string, onProgress?: EncodeProgress, pieceChars: number = CHUNK): number[] {
  const out: number[] = [];
  for (let start = 0; start < text.length; ) {
    const end = pieceEnd(text, start, Math.max(1, pieceChars));
    let ids: number[];
    try {
      ids = gpt2().encode(text.slice(start, end));
    } catch (e) {
      // the only error js-tiktoken raises here: a special token such as <|endoftext|> in the text
      throw new UserError(`the text cannot be BPE-encoded: ${(e as Error).message}`);
    }
    for (const id of ids) out.push(id);
    start = end;
    onProgress?.(start, text.length);
  }
  return out;
}

let tokenBytes: Uint8Array[] | undefined;
/** Each GPT-2 token's bytes, read from the ranks js-tiktoken ships ("! offset b64 b64 …" lines). */
function gpt2TokenBytes(): Uint8Array[] {
  if (tokenBytes) return tokenBytes;
  const table: Uint8Array[] = [];
  for (const line of gpt2Ranks.bpe_ranks.split("\n")) {
    if (!line) continue;
    const [, offset, ...tokens] = line.split(" ");
    tokens.forEach((b64, i) => (table[Number(offset) + i] = Buffer.from(b64, "base64")));
  }
  for (const [text, id] of Object.entries(gpt2Ranks.special_tokens)) table[id] = new TextEncoder().encode(text);
  return (tokenBytes = table);
}

class Gpt2Tokenizer implements Tokenizer {
  readonly kind = "gpt2";
  readonly vocabSize: number;
  /** compact id → GPT-2 id, when compacted. */
  readonly #toGpt2: readonly number[] | null;
  readonly #fromGpt2: Map<number, number> | null;

  constructor(compact: readonly number[] | null) {
    this.#toGpt2 = compact;
    this.#fromGpt2 = compact ? new Map(compact.map((id, i) => [id, i])) : null;
    this.vocabSize = compact ? compact.length : GPT2_VOCAB;
  }

  encode(text: string, onProgress?: EncodeProgress): Int32Array {
    return this.mapIds(encodeGpt2(text, onProgress));
  }

  /** GPT-2 ids → this tokenizer's ids (the same unless compacted). */
  mapIds(ids: readonly number[]): Int32Array {
    if (!this.#fromGpt2) return Int32Array.from(ids);
    const out = new Int32Array(ids.length);
    ids.forEach((id, i) => {
      const c = this.#fromGpt2!.get(id);
      if (c === undefined) {
        throw new UserError(`the text contains the GPT-2 token ${JSON.stringify(gpt2().decode([id]))} (id ${id}), which the compacted vocabulary of this model does not have`);
      }
      out[i] = c;
    });
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    const raw = Array.from(ids, (i) => (this.#toGpt2 ? (this.#toGpt2[i] ?? 0) : i));
    return gpt2().decode(raw);
  }

  decoder(): StreamDecoder {
    const bytes = gpt2TokenBytes();
    // stream: true keeps the bytes of a character cut short until the token that completes it
    const utf8 = new TextDecoder("utf-8");
    const empty = new Uint8Array(0);
    return {
      push: (id) => utf8.decode(bytes[this.#toGpt2 ? (this.#toGpt2[id] ?? 0) : id] ?? empty, { stream: true }),
      end: () => utf8.decode(),
    };
  }

  state(): TokenizerState {
    return { kind: "gpt2", compact: this.#toGpt2 };
  }
}

/** A byte-level BPE learned on a corpus: its merges are its state. */
class LearnedBpeTokenizer implements Tokenizer {
  readonly kind = "bpe";
  readonly vocabSize: number;
  readonly #state: BpeState;
  readonly #codec: BpeCodec;

  constructor(state: BpeState) {
    this.#state = state;
    this.#codec = bpeCodec(state);
    this.vocabSize = this.#codec.vocabSize;
  }

  /** A prompt's ids: <|endoftext|> written in it is the end-of-text token. */
  encode(text: string): Int32Array {
    return Int32Array.from(this.#codec.encode(text, true));
  }

  decode(ids: ArrayLike<number>): string {
    const d = this.decoder();
    let s = "";
    for (let i = 0; i < ids.length; i++) s += d.push(ids[i]!);
    return s + d.end();
  }

  decoder(): StreamDecoder {
    const utf8 = new TextDecoder("utf-8");
    const eot = new TextEncoder().encode(END_OF_TEXT);
    const empty = new Uint8Array(0);
    const bytes = this.#codec.tokenBytes;
    return {
      push: (id) => utf8.decode(bytes[id] ?? (id === this.#codec.endOfText ? eot : empty), { stream: true }),
      end: () => utf8.decode(),
    };
  }

  state(): TokenizerState {
    return this.#state;
  }
}

/** Builds the tokenizer a spec asks for from the corpus it will train on. */
export function buildTokenizer(kind: DataSpec["tokenizer"], text: string, compact: boolean): Tokenizer {
  return tokenize(kind, text, compact, { idsWanted: false }).tokenizer;
}

/**
 * The tokenizer a spec asks for, and the corpus's ids under it, from one pass over the text: a compacted
 * BPE vocabulary is read off the same encoding that gives the ids (encoding a large corpus takes a while).
 */
export function tokenize(kind: DataSpec["tokenizer"], text: string, compact: boolean, options: { onProgress?: EncodeProgress; idsWanted?: boolean } = {}): { tokenizer: Tokenizer; ids: Int32Array } {
  const wanted = options.idsWanted ?? true;
  if (typeof kind === "object") {
    throw new UserError("a learned BPE tokenizer is made from a corpus on disk by `babygpt data prepare` (or the first training on it), not from a text in memory; use char or gpt2 here");
  }
  if (kind === "char") {
    const tokenizer = new CharTokenizer([...new Set(Array.from(text))].sort(byCodePoint));
    return { tokenizer, ids: wanted ? tokenizer.encode(text) : new Int32Array(0) };
  }
  if (!compact) {
    const tokenizer = new Gpt2Tokenizer(null);
    return { tokenizer, ids: wanted ? tokenizer.encode(text, options.onProgress) : new Int32Array(0) };
  }
  const raw = encodeGpt2(text, options.onProgress);
  const tokenizer = new Gpt2Tokenizer([...new Set(raw)].sort((a, b) => a - b));
  return { tokenizer, ids: wanted ? tokenizer.mapIds(raw) : new Int32Array(0) };
}

/**
 * Where sampling starts when no prompt is given: a newline where the vocabulary has one (a corpus of
 * lines), else the vocabulary's first token. Always a token of this vocabulary.
 */
export function startContext(tokenizer: Tokenizer): number[] {
  try {
    const ids = tokenizer.encode("\n");
    if (ids.length > 0) return Array.from(ids);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
  }
  return [0];
}

export function tokenizerFromState(state: TokenizerState): Tokenizer {
  switch (state.kind) {
    case "char":
      return new CharTokenizer(Array.from(state.chars), state.eot === true);
    case "gpt2":
      return new Gpt2Tokenizer(state.compact);
    case "bpe":
      return new LearnedBpeTokenizer(state);
  }
}

function byCodePoint(a: string, b: string): number {
  return a.codePointAt(0)! - b.codePointAt(0)!;
}

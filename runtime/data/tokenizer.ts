// Tokenizers: characters (the vocabulary is the corpus's sorted distinct characters) and GPT-2's BPE
// through js-tiktoken, whose ranks ship inside the package (no download at run time). For a small corpus
// the BPE vocabulary can be compacted to the tokens that occur. A tokenizer's state is plain JSON, stored
// with each run so sampling decodes with exactly the vocabulary the model was trained on.
import { Tiktoken } from "js-tiktoken/lite";
import gpt2Ranks from "js-tiktoken/ranks/gpt2";
import { UserError } from "../errors.js";

export type TokenizerState =
  | { readonly kind: "char"; readonly chars: string }
  | { readonly kind: "gpt2"; readonly compact: readonly number[] | null };

export interface Tokenizer {
  readonly kind: "char" | "gpt2";
  readonly vocabSize: number;
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  state(): TokenizerState;
}

export const GPT2_VOCAB = 50_257;

class CharTokenizer implements Tokenizer {
  readonly kind = "char";
  readonly vocabSize: number;
  readonly #chars: string[];
  readonly #index = new Map<string, number>();

  constructor(chars: readonly string[]) {
    this.#chars = [...chars];
    this.#chars.forEach((c, i) => this.#index.set(c, i));
    this.vocabSize = chars.length;
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
    for (let i = 0; i < ids.length; i++) s += this.#chars[ids[i]!] ?? "\uFFFD";
    return s;
  }

  state(): TokenizerState {
    return { kind: "char", chars: this.#chars.join("") };
  }
}

let bpe: Tiktoken | undefined;
const gpt2 = (): Tiktoken => (bpe ??= new Tiktoken(gpt2Ranks));

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

  encode(text: string): Int32Array {
    const ids = gpt2().encode(text);
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

  state(): TokenizerState {
    return { kind: "gpt2", compact: this.#toGpt2 };
  }
}

/** Builds the tokenizer a spec asks for from the corpus it will train on. */
export function buildTokenizer(kind: "char" | "gpt2", text: string, compact: boolean): Tokenizer {
  if (kind === "char") return new CharTokenizer([...new Set(Array.from(text))].sort(byCodePoint));
  if (!compact) return new Gpt2Tokenizer(null);
  const used = [...new Set(gpt2().encode(text))].sort((a, b) => a - b);
  return new Gpt2Tokenizer(used);
}

export function tokenizerFromState(state: TokenizerState): Tokenizer {
  return state.kind === "char" ? new CharTokenizer(Array.from(state.chars)) : new Gpt2Tokenizer(state.compact);
}

function byCodePoint(a: string, b: string): number {
  return a.codePointAt(0)! - b.codePointAt(0)!;
}

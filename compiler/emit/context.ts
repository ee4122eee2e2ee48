// What an emitter needs besides its IR node: how to spell sizes in code and in shape comments, and a
// registry of the helper classes (Head, LayerNorm, Block, …) the file must declare.
import type { ClassDeclarationStructure } from "ts-morph";
import type { ModelIR } from "../ir/model.js";
import type { Width } from "../ir/width.js";

/** Where code is being emitted: the model's constructor has `this.vocabSize`; a block gets `vocabSize`. */
export type Scope = "model" | "block";

/**
 * What a helper class is, in the order the file declares them: building blocks first, as nanoGPT's
 * model.py reads (norms, attention heads, attention layers, MLPs, then the blocks made of them). Each
 * emitter says which its class is; within a role, a class comes after the classes it uses.
 */
export const CLASS_ORDER = ["norm", "head", "attention", "mlp", "block"] as const;
export type ClassRole = (typeof CLASS_ORDER)[number];

interface ClassEntry {
  readonly name: string;
  readonly rank: number;
  structure?: ClassDeclarationStructure;
  order: number;
}

export class EmitContext {
  readonly ir: ModelIR;
  readonly #classes = new Map<string, ClassEntry>();
  #finished = 0;

  constructor(ir: ModelIR) {
    this.ir = ir;
  }

  /**
   * A width as a TypeScript expression: `config.nEmbd` for the residual width, the vocabulary size in
   * scope, or the number. Only widths go through here; other sizes (head sizes, hidden widths, the
   * context length) are spelled by their emitters, so a number that happens to equal n_embd is not
   * mislabelled.
   */
  size(w: Width, scope: Scope): string {
    if (w === "vocab") return scope === "model" ? "this.vocabSize" : "vocabSize";
    if (w === this.ir.nEmbd) return "config.nEmbd";
    return String(w);
  }

  /** A width as shape comments write it: C for n_embd, 4*C for its multiples, vocab, or the number. */
  dim(w: Width): string {
    if (w === "vocab") return "vocab";
    const c = this.ir.nEmbd;
    if (c !== undefined && w === c) return "C";
    if (c !== undefined && w % c === 0 && w > c) return `${w / c}*C`;
    return String(w);
  }

  /** `// (B, T, C)` */
  shape(w: Width): string {
    return `// (B, T, ${this.dim(w)})`;
  }

  /**
   * The name of the helper class for one variant of a kind (`Head`, or `Head2` when a second variant of it
   * appears), building its declaration the first time it is asked for.
   */
  useClass(base: string, variant: string, role: ClassRole, build: (name: string) => ClassDeclarationStructure): string {
    const key = `${base}|${variant}`;
    const known = this.#classes.get(key);
    if (known) return known.name;
    const taken = new Set([...this.#classes.values()].map((c) => c.name));
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}${i}`;
    const entry: ClassEntry = { name, rank: CLASS_ORDER.indexOf(role), order: 0 };
    this.#classes.set(key, entry);
    entry.structure = build(name);
    entry.order = this.#finished++;
    return name;
  }

  readonly #vocabClasses = new Set<string>();

  /** Records that a block class's constructor takes the vocabulary size. */
  markVocab(className: string, takesVocab: boolean): void {
    if (takesVocab) this.#vocabClasses.add(className);
  }

  classUsesVocab(className: string): boolean {
    return this.#vocabClasses.has(className);
  }

  /** The helper classes in reading order: by kind, then dependencies before the classes that use them. */
  classes(): ClassDeclarationStructure[] {
    return [...this.#classes.values()]
      .sort((a, b) => a.rank - b.rank || a.order - b.order)
      .map((c) => c.structure!);
  }
}

/** snake_case layer name → camelCase property name. */
export function propertyName(layerName: string): string {
  return layerName.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A number literal as a reader expects it: 0.2, 1e-5, 3e-4. */
export function num(n: number): string {
  return Math.abs(n) > 0 && Math.abs(n) < 1e-3 ? n.toExponential().replace("e-", "e-") : String(n);
}

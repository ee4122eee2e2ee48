// What a PyTorch emitter needs besides its IR node: how to spell sizes in code and in shape comments, a
// registry of the helper classes (Head, LayerNorm, Block, …) the module declares, and of the module-level
// functions they call (causal_self_attention, sinusoidal_table).
import { SpecError } from "../diagnostics/diagnostic.js";
import { CLASS_ORDER, EmitContext, type ClassRole } from "../emit/context.js";
import type { ModelIR } from "../ir/model.js";
import type { Width } from "../ir/width.js";
import { RESERVED_CLASS_NAMES, unusableName } from "./python.js";

/** Where code is being emitted: the model class, or a block class (both reach the sizes through `config`). */
export type Scope = "model" | "block";

/** A helper class as the module declares it. */
export interface PyClass {
  readonly name: string;
  readonly doc: string;
  /** __init__'s parameters after self, e.g. `n_in: int, head_size: int`; empty for none. */
  readonly params: string;
  readonly init: readonly string[];
  /** forward(x) → (B, T, ·); absent for a class whose forward nothing calls (heads inside an attention layer). */
  readonly forward?: readonly string[];
}


/** Module-level functions, in the order the file declares them. */
export const HELPERS = ["causal_attention", "causal_self_attention", "rotary_tables", "sinusoidal_table", "init_gpt_weights", "tied_head"] as const;
export type Helper = (typeof HELPERS)[number];

/** A layer name the PyTorch target cannot use; compile.ts turns it into a located error. */
export class UnusableNameError extends Error {
  readonly layerName: string;
  constructor(layerName: string, why: string) {
    super(`layer "${layerName}" cannot be an attribute of a PyTorch module: ${why}; give the layer another name`);
    this.layerName = layerName;
  }
}

interface ClassEntry {
  readonly name: string;
  readonly rank: number;
  order: number;
  cls?: PyClass;
}

export class TorchContext {
  readonly ir: ModelIR;
  readonly #classes = new Map<string, ClassEntry>();
  readonly #helpers = new Set<Helper>();
  /** The TypeScript target's, for the shape comments both targets write alike. */
  readonly #shapes: EmitContext;
  #finished = 0;

  constructor(ir: ModelIR) {
    this.ir = ir;
    this.#shapes = new EmitContext(ir);
  }

  /** A width as a Python expression: `config.n_embd`, `config.vocab_size`, or the number. */
  size(w: Width): string {
    if (w === "vocab") return "config.vocab_size";
    if (w === this.ir.nEmbd) return "config.n_embd";
    return String(w);
  }

  /** A width as shape comments write it: C for n_embd, 4*C for its multiples, vocab, or the number. */
  dim(w: Width): string {
    return this.#shapes.dim(w);
  }

  /** `# (B, T, C)` */
  shape(w: Width): string {
    return `# (B, T, ${this.dim(w)})`;
  }

  /** The attribute a layer becomes: its name, refused when Python or nn.Module already uses it. */
  attr(layerName: string, scope: Scope): string {
    const why = unusableName(layerName, scope);
    if (why) throw new UnusableNameError(layerName, why);
    return layerName;
  }

  /** Declares a module-level function the file must define. */
  useHelper(helper: Helper): string {
    this.#helpers.add(helper);
    // causal_self_attention projects the heads and calls causal_attention.
    if (helper === "causal_self_attention") this.#helpers.add("causal_attention");
    return helper;
  }

  helpers(): Helper[] {
    return HELPERS.filter((h) => this.#helpers.has(h));
  }

  /**
   * The name of the helper class for one variant of a kind (`Head`, or `Head2` when a second variant
   * appears), building it the first time it is asked for; `role` places it in the file (CLASS_ORDER).
   */
  useClass(base: string, variant: string, role: ClassRole, build: (name: string) => PyClass): string {
    const key = `${base}|${variant}`;
    const known = this.#classes.get(key);
    if (known) return known.name;
    if (RESERVED_CLASS_NAMES.has(base)) {
      throw new SpecError([{ loc: { kind: "cli", arg: this.ir.files[0]!.path }, message: `a class named ${base} would clash with a name the PyTorch module already uses; choose another class name` }]);
    }
    const taken = new Set([...this.#classes.values()].map((c) => c.name));
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}${i}`;
    const entry: ClassEntry = { name, rank: CLASS_ORDER.indexOf(role), order: 0 };
    this.#classes.set(key, entry);
    entry.cls = build(name);
    entry.order = this.#finished++;
    return name;
  }

  /** A class declared so far, by the name useClass gave it. */
  classNamed(name: string): PyClass | undefined {
    return [...this.#classes.values()].find((c) => c.name === name)?.cls;
  }

  /** The helper classes in reading order: by kind, then dependencies before the classes that use them. */
  classes(): PyClass[] {
    return [...this.#classes.values()].sort((a, b) => a.rank - b.rank || a.order - b.order).map((c) => c.cls!);
  }
}

// The file being built, as its builders see it (BuildContext): sizes as expressions of the config,
// which it fills as they ask; widths as shape comments write them; the registry of the helper classes,
// which declares each distinct class once; and the walk over nested layer lists, dispatching each layer
// to its kind's builder.
import { canonicalJson } from "../../util/hash.js";
import type { ModelIR } from "../ir/model.js";
import { nodeDef, type IrNode } from "../ir/nodes/index.js";
import type { Width } from "../ir/width.js";
import type { BuildContext, SequenceEnds, Step } from "./builder.js";
import { builderOf } from "./builders/index.js";
import { CONFIG_DOCS } from "./config-docs.js";
import { CLASS_ORDER, v, type ClassDecl, type ClassRole, type ConfigSlot, type Expr, type Init, type Stmt } from "./nodes.js";

interface ClassEntry {
  readonly decl: ClassDecl;
  readonly rank: number;
  readonly order: number;
}

interface SlotEntry {
  readonly slot: ConfigSlot;
  readonly base: string;
  /** The layer that first asked for it, which names it when another value shares its base. */
  readonly owner: string;
}

export class ModelContext implements BuildContext {
  readonly ir: ModelIR;
  readonly #classes = new Map<string, ClassEntry>();
  readonly #slots: SlotEntry[] = [];

  constructor(ir: ModelIR) {
    this.ir = ir;
    this.config("block_size", ir.blockSize, CONFIG_DOCS.block_size, "model");
    if (ir.nEmbd !== undefined) this.config("n_embd", ir.nEmbd, CONFIG_DOCS.n_embd, "model");
  }

  /**
   * A size of the model as a field of its config: one field per distinct value of `base`. Where layers
   * of one kind differ (two attention layers with different head counts), each value gets a field named
   * after the layer that asked for it (n_head_attn2).
   */
  config(base: string, value: number, doc: string, owner: string, float = false): Expr {
    const known = this.#slots.find((s) => s.base === base && s.slot.value === value);
    if (known) return { kind: "config", slot: known.slot };
    const slot: ConfigSlot = { name: base, value, doc, float };
    this.#slots.push({ slot, base, owner });
    return { kind: "config", slot };
  }

  /** A width as an expression: the vocabulary size, n_embd, or a field of its own named after the layer. */
  width(w: Width, owner: string, role = "width"): Expr {
    if (w === "vocab") return { kind: "vocab" };
    if (w === this.ir.nEmbd) return this.config("n_embd", w, "", "model");
    return this.config(`${owner}_${role}`, w, `The ${role} of layer ${owner}.`, owner);
  }

  /** A width as shape comments write it: C for n_embd, 4*C for its multiples, vocab, or the number. */
  dim(w: Width): string {
    if (w === "vocab") return "vocab";
    const c = this.ir.nEmbd;
    if (c !== undefined && w === c) return "C";
    if (c !== undefined && w % c === 0 && w > c) return `${w / c}*C`;
    return String(w);
  }

  /** `(B, T, C)` */
  shape(w: Width): string {
    return `(B, T, ${this.dim(w)})`;
  }

  /**
   * The name of the class `decl` describes: the name it was given when an equal class was declared before,
   * else `base` (or base2, base3… when another class has it). Classes a class uses are declared while it
   * is built, so each comes before its users within a role.
   */
  useClass(base: string, role: ClassRole, decl: Omit<ClassDecl, "name" | "role">): string {
    const key = `${role}|${base}|${canonicalJson(decl)}`;
    const known = this.#classes.get(key);
    if (known) return known.decl.name;
    const taken = new Set([...this.#classes.values()].map((c) => c.decl.name));
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}${i}`;
    this.#classes.set(key, { decl: { name, role, ...decl }, rank: CLASS_ORDER.indexOf(role), order: this.#classes.size });
    return name;
  }

  /** The helper classes in reading order: by role, then dependencies before the classes that use them. */
  classes(): ClassDecl[] {
    return [...this.#classes.values()].sort((a, b) => a.rank - b.rank || a.order - b.order).map((c) => c.decl);
  }

  /**
   * The config's fields, named: a base with one value keeps its name; with several, each is named after
   * its layer. block_size and n_embd come first.
   */
  configSlots(): ConfigSlot[] {
    const byBase = new Map<string, SlotEntry[]>();
    for (const e of this.#slots) byBase.set(e.base, [...(byBase.get(e.base) ?? []), e]);
    const used = new Set<string>();
    for (const [base, entries] of byBase) {
      for (const e of entries) {
        let name = entries.length === 1 ? base : `${base}_${e.owner}`;
        for (let i = 2; used.has(name); i++) name = `${base}_${e.owner}${i}`;
        e.slot.name = name;
        used.add(name);
      }
    }
    return this.#slots.map((e) => e.slot);
  }

  fieldsOf(nodes: readonly IrNode[]): Init[] {
    return nodes.flatMap((n) => builderOf(n).fields(n, this));
  }

  stepOf(node: IrNode, input: Expr): Step {
    const step = builderOf(node).forward(node, input, this);
    if (step.kind === "stmts" || step.comment !== undefined) return step;
    return { ...step, comment: this.shape(nodeDef(node.kind).outWidth(node as never)) };
  }

  forwardOf(nodes: readonly IrNode[], name: string, ends: SequenceEnds = {}): Stmt[] {
    const out: Stmt[] = [];
    let declared = ends.fromTokens !== true;
    nodes.forEach((node, i) => {
      const last = i === nodes.length - 1 && ends.toLogits === true;
      const step = this.stepOf(node, v(declared ? name : "idx"));
      if (step.kind === "stmts") {
        out.push(...step.stmts);
        if (last) out.push({ kind: "let", name: "logits", value: v(name) });
        return;
      }
      const comment = step.comment === undefined ? {} : { comment: step.comment };
      if (last) out.push({ kind: "let", name: "logits", value: step.expr, ...comment });
      // The stream declared from an op (token rows times a scale): tf types an op's result by a generic
      // it cannot infer here, so the declaration gives the stream's rank.
      else if (!declared && step.expr.kind === "op") out.push({ kind: "let", name, value: step.expr, rank: 3, ...comment });
      else out.push({ kind: declared ? "set" : "let", name, value: step.expr, ...comment });
      declared = true;
    });
    return out;
  }
}

// The module tree: one generated model file as the targets have it in common, built once from the IR
// (compiler/tree/build.ts) and written out by one serializer per target (compiler/serialize/). It holds
// the config, the classes (fields and how each is built, in order), and each forward as a small tree of
// statements and expressions. Nothing here is spelled in a target's syntax: names are snake_case (the
// TypeScript serializer camel-cases them), comments are prose, shapes are written as "(B, T, C)", and
// every operation is an op of the catalogue (compiler/tree/ops/), which holds how each target spells it.
import type { SpecFile } from "../spec/load.js";

/** A tensor's rank, as the TypeScript target types it; "any" for a forward generic over rank. */
export type Rank = 2 | 3 | 4 | "any";

/** Where a class is declared in the file: building blocks first, as nanoGPT's model.py reads. */
export const CLASS_ORDER = ["norm", "head", "attention", "mlp", "block"] as const;
export type ClassRole = (typeof CLASS_ORDER)[number];

/** A field of the generated config: a size or rate of the model, with why it is there. */
export interface ConfigSlot {
  /** The field's name (snake_case), decided when the whole file is built. */
  name: string;
  readonly value: number;
  readonly doc: string;
  /** Whether the value is a rate (a float in Python), not a count or width. */
  readonly float: boolean;
}

/** An argument of an op: an expression, or a constant the op is configured with. */
export type OpArg = Expr | readonly Expr[] | OpAttr;
export type OpAttr = string | number | boolean | undefined | readonly number[];

export type Expr =
  /** A local variable or a parameter of the method. */
  | { readonly kind: "var"; readonly name: string }
  /** A field of this module: `this.x` / `self.x`. */
  | { readonly kind: "field"; readonly name: string }
  /** A constructor parameter. */
  | { readonly kind: "param"; readonly name: string }
  /** A field of the model's config. */
  | { readonly kind: "config"; readonly slot: ConfigSlot }
  /** The vocabulary size, which comes from the tokenizer at run time. */
  | { readonly kind: "vocab" }
  /** While sampling, the positions before this forward's (the KV cache's length); 0 in training. */
  | { readonly kind: "past" }
  | { readonly kind: "num"; readonly value: number; readonly float?: boolean }
  /** Arithmetic on plain numbers (sizes, scales), not tensors. */
  | { readonly kind: "arith"; readonly op: "*" | "**"; readonly left: Expr; readonly right: Expr }
  /** The size of a tensor's axis: `x.shape[1]`. */
  | { readonly kind: "dim"; readonly of: Expr; readonly axis: number }
  /**
   * A module's forward: `this.fc.forward(x)` / `self.fc(x)`; `cache` passes the KV cache along, or its
   * view for one application of a module a shared repeat applies several times (the index).
   */
  | { readonly kind: "call"; readonly module: Expr; readonly args: readonly Expr[]; readonly cache?: boolean | Expr }
  /** An element of a list of modules that has it: `this.blocks[0]!`. */
  | { readonly kind: "item"; readonly of: Expr; readonly index: number }
  /** An operation of the catalogue, by name, with its arguments by name. */
  | { readonly kind: "op"; readonly op: string; readonly args: Readonly<Record<string, OpArg>> };

export type Stmt =
  /** Declares a local (`let`/`const` in TypeScript, as the method reassigns it or not). */
  | { readonly kind: "let"; readonly name: string; readonly value: Expr; readonly comment?: string; readonly rank?: Rank }
  | { readonly kind: "set"; readonly name: string; readonly value: Expr; readonly comment?: string }
  | { readonly kind: "return"; readonly value: Expr; readonly comment?: string }
  /** `const [cos, sin] = …`: the parts of an op's result that returns several tensors ("_" for one not read). */
  | { readonly kind: "unpack"; readonly names: readonly string[]; readonly value: Expr; readonly comment?: string }
  /** `const [B, T] = x.shape`: the leading sizes of a tensor of rank `rank`. */
  | { readonly kind: "shape"; readonly names: readonly string[]; readonly of: Expr; readonly rank: number }
  /**
   * A comment of its own: prose the serializer wraps, or lines kept as they are (`verbatim`, for aligned
   * math). `only` keeps it to one target, for a note about how that target runs the code.
   */
  | { readonly kind: "note"; readonly text: string; readonly verbatim?: boolean; readonly only?: "typescript" | "python" }
  | { readonly kind: "for"; readonly item: string; readonly over: Expr; readonly body: readonly Stmt[] }
  /** `for i in range(count)`: the body `count` times, with the index. */
  | { readonly kind: "times"; readonly index: string; readonly count: Expr; readonly body: readonly Stmt[] }
  /** Statements whose locals end with them (a block in TypeScript). */
  | { readonly kind: "scope"; readonly body: readonly Stmt[] }
  /**
   * While sampling, the keys and values of the positions before this forward's come from the KV cache:
   * k and v are replaced by the cached ones followed by these. Targets without a KV cache leave it out.
   */
  | { readonly kind: "cache"; readonly k: string; readonly v: string; readonly comment: string; readonly window?: Expr }
  /**
   * Adds a scalar to the model's auxiliary training loss for this forward (a mixture of experts' load
   * balancing): the layer records it, and the model sums what its layers recorded and hands it to the
   * trainer apart from the cross-entropy. A layer applied twice records twice.
   */
  | { readonly kind: "aux_loss"; readonly value: Expr; readonly comment?: string };

/** How a field's module is built: one of the file's classes, or a class of the library (compiler/tree/library.ts). */
export type Make =
  | { readonly kind: "class"; readonly name: string; readonly args: readonly Expr[] }
  | { readonly kind: "library"; readonly name: LibraryClass; readonly args: Readonly<Record<string, Expr | boolean | undefined>> };

export type LibraryClass = "Linear" | "TiedLinear" | "Embedding" | "Dropout";

export type Field =
  /**
   * A child module: its parameters are named under the field's name. `initRule` makes the model's init
   * step draw it otherwise than its kind's default: GPT-2's scaled residual projection, or zeros.
   */
  | { readonly kind: "module"; readonly name: string; readonly make: Make; readonly doc?: string; readonly initRule?: InitRule }
  /**
   * A list of child modules, named name.0, name.1, …; or, `shared`, a list of one module whose weights
   * the forward applies `count` times (named name.0).
   */
  | { readonly kind: "modules"; readonly name: string; readonly count: Expr; readonly make: Make; readonly doc?: string; readonly shared?: boolean }
  /** A trainable tensor of its own, starting at `fill` (gains at 1, shifts at 0). */
  | { readonly kind: "parameter"; readonly name: string; readonly shape: readonly Expr[]; readonly fill: 0 | 1; readonly doc?: string }
  /** A constant tensor, neither trained nor saved. */
  | { readonly kind: "buffer"; readonly name: string; readonly value: Expr; readonly rank: Rank; readonly doc?: string }
  /** A plain number the forward reads. */
  | { readonly kind: "value"; readonly name: string; readonly value: Expr; readonly float: boolean; readonly doc?: string };

/** How the init step draws a module unlike the rest of its kind (a Linear's weight). */
export type InitRule = "residual" | "zero";

/** A statement of a constructor: a field, or a step that computes what fields are built from. */
export type Init = Field | Extract<Stmt, { kind: "unpack" | "note" }>;

export interface Param {
  readonly name: string;
  readonly float?: boolean;
}

export interface Forward {
  /** Its tensor inputs after the first, x (the model's forward takes idx). */
  readonly rank: Rank;
  /** Whether it takes the KV cache (its layers read positions). */
  readonly cache: boolean;
  /** Its locals live in a scope of their own (a tf.tidy in TypeScript), freed when it returns. */
  readonly scoped: boolean;
  readonly body: readonly Stmt[];
}

export interface ClassDecl {
  readonly name: string;
  readonly doc: string;
  readonly role: ClassRole;
  readonly params: readonly Param[];
  readonly init: readonly Init[];
  /** Absent for a class that only holds the parameters of an op that reads them (its doc says which). */
  readonly forward?: Forward;
}

export interface ModelDecl {
  /** The generated model class (`GptModel`). */
  readonly name: string;
  readonly doc: string;
  readonly init: readonly Init[];
  /** From idx (B, T) to `logits` (B, T, vocab). */
  readonly forward: Forward;
  /** How the weights start: PyTorch's defaults, GPT-2's N(0, 0.02), or that with scaled residual projections. */
  readonly initStyle: "torch" | "gpt" | "gpt2";
  /** gpt2: the config field holding the number of residual applications the scaling divides by. */
  readonly residuals?: Expr;
}

export interface ModuleFile {
  readonly name: string;
  readonly files: readonly SpecFile[];
  readonly modelHash: string;
  readonly config: readonly ConfigSlot[];
  /** The helper classes in reading order: by role, then each after the classes it uses. */
  readonly classes: readonly ClassDecl[];
  readonly model: ModelDecl;
}

// Constructors, so builders read as the code they describe.
export const v = (name: string): Expr => ({ kind: "var", name });
export const self = (name: string): Expr => ({ kind: "field", name });
export const param = (name: string): Expr => ({ kind: "param", name });
export const num = (value: number, float = false): Expr => (float ? { kind: "num", value, float } : { kind: "num", value });
export const op = (name: string, args: Readonly<Record<string, OpArg>>): Expr => ({ kind: "op", op: name, args });
export const call = (module: Expr, args: readonly Expr[], cache: boolean | Expr = false): Expr => (cache === false ? { kind: "call", module, args } : { kind: "call", module, args, cache });

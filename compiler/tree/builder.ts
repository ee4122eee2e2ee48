// The contract of a builder: for one IR node, the fields it adds to the enclosing class (in the order
// they are built) and the forward step that applies it. One builder per kind, in builders/<kind>.ts,
// holds everything the generated code knows of that kind; the serializers know none of them. What a
// builder may ask of the file being built is BuildContext, implemented by context.ts, which also walks
// the nested layer lists of the container kinds, so no builder needs the table of the others.
import type { IrNode } from "../ir/nodes/index.js";
import type { ModelIR } from "../ir/model.js";
import type { Width } from "../ir/width.js";
import type { ClassDecl, ClassRole, Expr, Init, Stmt } from "./nodes.js";

/** A layer's forward: an expression of its input, or statements that update the input variable. */
export type Step = { readonly kind: "expr"; readonly expr: Expr; readonly comment?: string } | { readonly kind: "stmts"; readonly stmts: readonly Stmt[] };

export interface Builder<N> {
  /** Fields of the enclosing class (none for parameter-free layers); containers may add several. */
  fields(node: N, ctx: BuildContext): readonly Init[];
  /** Applies the layer to `input` (the variable, or the expression of the layers before it in a chain). */
  forward(node: N, input: Expr, ctx: BuildContext): Step;
}

export interface SequenceEnds {
  /** The first layer reads the token indices idx and declares the variable. */
  readonly fromTokens?: boolean;
  /** The last layer's output is declared as logits. */
  readonly toLogits?: boolean;
}

export interface BuildContext {
  readonly ir: ModelIR;
  /**
   * A size of the model as a field of its config, one field per distinct value of `base`; where layers
   * differ, each value's field is named after the layer that asked for it (`owner`).
   */
  config(base: string, value: number, doc: string, owner: string, float?: boolean): Expr;
  /** A width as an expression: the vocabulary size, n_embd, or a config field named after the layer. */
  width(w: Width, owner: string, role?: string): Expr;
  /** A width as shape comments write it: C for n_embd, 4*C for its multiples, vocab, or the number. */
  dim(w: Width): string;
  /** `(B, T, C)` */
  shape(w: Width): string;
  /** The name of the helper class `decl` describes, declaring it the first time (base, or base2…). */
  useClass(base: string, role: ClassRole, decl: Omit<ClassDecl, "name" | "role">): string;
  /** The fields of a nested layer list (a residual's or block's body). */
  fieldsOf(nodes: readonly IrNode[]): Init[];
  /** One layer's step, with its output shape as the comment unless its builder gave one. */
  stepOf(node: IrNode, input: Expr): Step;
  /** Statements updating the variable `name` through a layer list. */
  forwardOf(nodes: readonly IrNode[], name: string, ends?: SequenceEnds): Stmt[];
}

export const expr = (e: Expr, comment?: string): Step => (comment === undefined ? { kind: "expr", expr: e } : { kind: "expr", expr: e, comment });

export const NOTHING: Step = { kind: "stmts", stmts: [] };

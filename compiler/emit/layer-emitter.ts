// The contract of an emitter: for one IR node, the field it adds to the enclosing class, the code that
// builds it, and the forward code that applies it.
import type { EmitContext, Scope } from "./context.js";

/** A property of the enclosing class and the constructor statement that builds it. */
export interface Member {
  readonly property: string;
  readonly type: string;
  readonly init: string;
}

/** Forward code: an expression of the input, or statements that update `x` in place. */
export type Step = { readonly kind: "expr"; readonly expr: string; readonly comment?: string } | { readonly kind: "stmts"; readonly lines: readonly string[] };

export interface LayerEmitter<N> {
  /** Fields of the enclosing class (none for parameter-free layers); containers may add several. */
  members(node: N, ctx: EmitContext, scope: Scope): readonly Member[];
  /** Applies the layer to `input` (a variable name). */
  forward(node: N, input: string, ctx: EmitContext, scope: Scope): Step;
}

export const expr = (e: string, comment?: string): Step => (comment === undefined ? { kind: "expr", expr: e } : { kind: "expr", expr: e, comment });

// The contract of a PyTorch emitter: for one IR node, the attributes it adds to the enclosing module's
// __init__ and the forward code that applies it.
import type { Scope, TorchContext } from "./context.js";

/** One statement of __init__: a child module or parameter (`self.name = init`), or a buffer. */
export type Member = { readonly kind: "attr"; readonly attr: string; readonly init: string } | { readonly kind: "buffer"; readonly attr: string; readonly init: string };

/** Forward code: an expression of the input, or statements that update the input variable in place. */
export type Step = { readonly kind: "expr"; readonly expr: string; readonly comment?: string } | { readonly kind: "stmts"; readonly lines: readonly string[] };

export interface TorchLayerEmitter<N> {
  /** Attributes of the enclosing module (none for parameter-free layers); containers may add several. */
  members(node: N, ctx: TorchContext, scope: Scope): readonly Member[];
  /** Applies the layer to `input` (a variable name). */
  forward(node: N, input: string, ctx: TorchContext, scope: Scope): Step;
}

/** The statement a member becomes in __init__. */
export function memberLine(m: Member): string {
  return m.kind === "attr" ? `self.${m.attr} = ${m.init}` : `self.register_buffer("${m.attr}", ${m.init}, persistent=False)`;
}

/** `self.name = Class(args)` for a child module. */
export function moduleMember(attr: string, init: string): Member {
  return { kind: "attr", attr, init };
}

/** Forward through a child module: `self.name(input)`. */
export function callModule(attr: string, input: string): Step {
  return expr(`self.${attr}(${input})`);
}

export const expr = (e: string, comment?: string): Step => (comment === undefined ? { kind: "expr", expr: e } : { kind: "expr", expr: e, comment });

export const NOTHING: Step = { kind: "stmts", lines: [] };

// The contract of an emitter: for one IR node, the field it adds to the enclosing class, the code that
// builds it, and the forward code that applies it.
import { propertyName, type EmitContext, type Scope } from "./context.js";

/** A property of the enclosing class and the constructor statement that builds it. */
export interface Member {
  readonly property: string;
  readonly type: string;
  readonly init: string;
}

/** Forward code: an expression of the input, or statements that update `x` in place. */
export type Step = { readonly kind: "expr"; readonly expr: string; readonly comment?: string } | { readonly kind: "stmts"; readonly lines: readonly string[] };

export interface LayerEmitter<N> {
  /**
   * The names from runtime/nn its code may use (classes, ops, `tf`): the file imports those of them its
   * syntax tree does use.
   */
  readonly runtime: readonly string[];
  /** Fields of the enclosing class (none for parameter-free layers); containers may add several. */
  members(node: N, ctx: EmitContext, scope: Scope): readonly Member[];
  /** Applies the layer to `input` (a variable name). */
  forward(node: N, input: string, ctx: EmitContext, scope: Scope): Step;
}

/**
 * The field for a child module: `name: Class = this.module("name", new Class(args))`. Arguments are
 * positional (a string) or named (an object literal from key/value pairs, rates of 0 left out by callers).
 */
export function moduleMember(layerName: string, className: string, args: string | readonly (readonly [string, string])[]): Member {
  const list = typeof args === "string" ? args : `{ ${args.map(([k, v]) => `${k}: ${v}`).join(", ")} }`;
  return { property: propertyName(layerName), type: className, init: `this.module("${layerName}", new ${className}(${list}))` };
}

/** Forward through a child module: `this.name.forward(input)`, and the KV cache to a layer that reads positions. */
export function callForward(layerName: string, input: string, withCache = false): Step {
  return expr(`this.${propertyName(layerName)}.forward(${input}${withCache ? ", cache" : ""})`);
}

/** The forward parameter a class whose layers read positions takes while sampling. */
export const CACHE_PARAM = { name: "cache", type: "KvCache", optional: true } as const;

export const expr = (e: string, comment?: string): Step => (comment === undefined ? { kind: "expr", expr: e } : { kind: "expr", expr: e, comment });

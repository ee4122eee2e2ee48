// Shared precondition of every layer after the embedding: its input is (B, T, C) activations.
import type { LowerContext } from "../node-def.js";
import type { Width } from "../width.js";

export function requireActivations(ctx: LowerContext, kind: string): Width {
  if (ctx.input === "tokens") {
    throw ctx.error(`${kind} needs activations (B, T, C), but its input here is token indices (B, T); start the model with a token_embedding`, "kind");
  }
  return ctx.input;
}

/** A numeric width, where a layer's own size is derived from its input's. */
export function requireNumeric(ctx: LowerContext, width: Width, what: string, key: string): number {
  if (width === "vocab") throw ctx.error(`${what} cannot be derived from a vocab-wide input; set ${key}`, "kind");
  return width;
}

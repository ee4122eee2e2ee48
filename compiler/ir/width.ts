// Widths of the last dimension of an activation. The vocabulary size is known only at run time (it comes
// from the tokenizer), so it stays symbolic in the IR and in the generated code.

export type Width = number | "vocab";

/** Concrete sizes that resolve the symbols, for counting parameters, FLOPs and memory. */
export interface Dims {
  readonly vocab: number;
  /** Sequence length the costs are measured at (usually block_size). */
  readonly T: number;
}

export function resolveWidth(w: Width, dims: Dims): number {
  return w === "vocab" ? dims.vocab : w;
}

export function showWidth(w: Width): string {
  return w === "vocab" ? "vocab" : String(w);
}

// The library classes a generated file builds fields from, and how each target spells building one:
// runtime/nn's Linear, Embedding and Dropout in TypeScript, torch.nn's in Python. A tied output layer is
// a Linear over the token table's weight in TypeScript and the module's TiedHead in Python.
import type { Expr, LibraryClass } from "./nodes.js";
import type { PyHelper } from "./ops/index.js";

/** Arguments spelled for a target: expressions as text, flags as they are. */
export type LibraryArgs = Readonly<Record<string, string | boolean | undefined>>;

export interface LibraryDef {
  /** The class's name in TypeScript's runtime/nn (the field's type). */
  readonly tsType: string;
  ts(a: LibraryArgs): string;
  py(a: LibraryArgs): string;
  readonly pyHelpers?: readonly PyHelper[];
}

const TIED_HEAD_PY: PyHelper = {
  name: "TiedHead",
  order: 90,
  text: `class TiedHead(nn.Module):
    """The output layer of tied embeddings: logits = x·Eᵀ (+ b), E the token table. It holds the table's
    module in a list, out of its own parameters, so the table stays one parameter, trained and saved once
    (as babygpt's model.safetensors has it)."""

    def __init__(self, table: nn.Embedding, bias: bool):
        super().__init__()
        self.table = [table]
        self.bias = nn.Parameter(torch.zeros(table.num_embeddings)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.table[0].weight, self.bias)  # (B, T, vocab)`,
};

const text = (a: LibraryArgs, name: string): string => {
  const t = a[name];
  if (typeof t !== "string") throw new Error(`library argument ${name} is not an expression`);
  return t;
};

export const LIBRARY: { readonly [C in LibraryClass]: LibraryDef } = {
  Linear: {
    tsType: "Linear",
    ts: (a) => `new Linear(${text(a, "n_in")}, ${text(a, "n_out")}${a["bias"] === false ? ", false" : ""})`,
    py: (a) => `nn.Linear(${text(a, "n_in")}, ${text(a, "n_out")}${a["bias"] === false ? ", bias=False" : ""})`,
  },
  TiedLinear: {
    tsType: "Linear",
    // The token table (vocab, C) is the weight (out, in): one parameter, trained and saved once.
    ts: (a) => `new Linear(${text(a, "n_in")}, ${text(a, "n_out")}, ${a["bias"] === true}, ${text(a, "table")}.weight)`,
    py: (a) => `TiedHead(${text(a, "table")}, bias=${a["bias"] === true ? "True" : "False"})`,
    pyHelpers: [TIED_HEAD_PY],
  },
  Embedding: {
    tsType: "Embedding",
    ts: (a) => `new Embedding(${text(a, "count")}, ${text(a, "dim")})`,
    py: (a) => `nn.Embedding(${text(a, "count")}, ${text(a, "dim")})`,
  },
  Dropout: {
    tsType: "Dropout",
    ts: (a) => `new Dropout(${text(a, "p")})`,
    py: (a) => `nn.Dropout(${text(a, "p")})`,
  },
};

// Constructors for builders.
export const linear = (nIn: Expr, nOut: Expr, bias: boolean) => ({ kind: "library", name: "Linear", args: { n_in: nIn, n_out: nOut, bias } }) as const;
export const tiedLinear = (nIn: Expr, nOut: Expr, bias: boolean, table: Expr) => ({ kind: "library", name: "TiedLinear", args: { n_in: nIn, n_out: nOut, bias, table } }) as const;
export const embedding = (count: Expr, dim: Expr) => ({ kind: "library", name: "Embedding", args: { count, dim } }) as const;
export const dropout = (p: Expr) => ({ kind: "library", name: "Dropout", args: { p } }) as const;

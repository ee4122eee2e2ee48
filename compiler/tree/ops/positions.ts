// Position information: rotary embedding of queries and keys (RoPE) and its tables, the Transformer
// paper's sinusoidal table, and the rows of a position table for the positions of x. While sampling, x's
// positions start after the KV cache's (the past argument); the Python module has no KV cache.
import { pyText, tsText, type OpDef, type PyHelper } from "./op.js";
import { op, type Expr } from "../nodes.js";

const ROTARY_PY: PyHelper = {
  name: "rotary_tables",
  order: 50,
  text: `def rotary_tables(positions: int, dims: int, base: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of pos·f_i for every position and i < dims/2, f_i = base^(-2i/dims): (positions, dims/2)
    each. Computed in float64 and rounded once to float32, as babygpt's rotaryTables does."""
    pos = torch.arange(positions, dtype=torch.float64)[:, None]  # (positions, 1)
    freq = torch.pow(float(base), -torch.arange(0, dims, 2, dtype=torch.float64) / dims)  # (dims/2,)
    angles = pos * freq  # (positions, dims/2)
    return torch.cos(angles).float(), torch.sin(angles).float()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding of x (B, H, T, hs) (GPT-NeoX's layout): its leading 2·(dims/2) features,
    as two halves x1, x2, rotated pair by pair by the angles of positions 0…T-1; the rest pass through."""
    half = cos.shape[1]
    x1, x2, rest = x[..., :half], x[..., half : 2 * half], x[..., 2 * half :]
    c, s = cos[: x.shape[2]], sin[: x.shape[2]]  # (T, dims/2) each
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s, rest], dim=-1)  # (B, H, T, hs)`,
};

/** cos and sin tables of the rotation angles: (positions, dims/2) each. */
export const ROTARY_TABLES: OpDef = {
  name: "rotary_tables",
  tsNames: ["rotaryTables"],
  ts: (a) => `rotaryTables(${tsText(a, "positions")}, ${tsText(a, "dims")}, ${tsText(a, "base")})`,
  py: (a) => `rotary_tables(${pyText(a, "positions").text}, ${pyText(a, "dims").text}, ${pyText(a, "base").text})`,
  pyHelpers: [ROTARY_PY],
};

/** x (B, H, T, hs) rotated by its positions' angles. */
export const ROPE: OpDef = {
  name: "rope",
  tsNames: ["rope"],
  ts: (a) => `rope(${tsText(a, "x")}, ${tsText(a, "cos")}, ${tsText(a, "sin")}, ${tsText(a, "past")})`,
  py: (a) => `apply_rotary(${pyText(a, "x").text}, ${pyText(a, "cos").text}, ${pyText(a, "sin").text})`,
  pyHelpers: [ROTARY_PY],
};

const SINUSOIDAL_PY: PyHelper = {
  name: "sinusoidal_table",
  order: 60,
  text: `def sinusoidal_table(positions: int, width: int) -> torch.Tensor:
    """The Transformer paper's fixed position code (positions, width): even features sin(pos·f), odd ones
    cos(pos·f), with f = 10000^(-2⌊i/2⌋/width). Computed in float64 and rounded once to float32, as
    babygpt's sinusoidalTable does."""
    pos = torch.arange(positions, dtype=torch.float64)[:, None]  # (positions, 1)
    i = torch.arange(width)
    freq = torch.pow(10000.0, -(2 * torch.div(i, 2, rounding_mode="floor")).double() / width)  # (width,)
    angles = pos * freq  # (positions, width)
    return torch.where(i % 2 == 0, torch.sin(angles), torch.cos(angles)).float()`,
};

export const SINUSOIDAL_TABLE: OpDef = {
  name: "sinusoidal_table",
  tsNames: ["sinusoidalTable"],
  ts: (a) => `sinusoidalTable(${tsText(a, "positions")}, ${tsText(a, "width")})`,
  py: (a) => `sinusoidal_table(${pyText(a, "positions").text}, ${pyText(a, "width").text})`,
  pyHelpers: [SINUSOIDAL_PY],
};

/** The rows of a learned position table (an embedding module) for x's positions: (T, C). */
export const EMBEDDING_ROWS: OpDef = {
  name: "embedding_rows",
  tsNames: [],
  ts: (a) => `${tsText(a, "table")}.rows(${tsText(a, "x")}.shape[1], ${tsText(a, "past")})`,
  py: (a) => {
    const x = pyText(a, "x").at(100);
    return `${pyText(a, "table").at(100)}(torch.arange(${x}.shape[1], device=${x}.device))`;
  },
};

/** The rows of a fixed position table (a buffer) for x's positions: (T, C). */
export const TABLE_ROWS: OpDef = {
  name: "table_rows",
  tsNames: ["tf"],
  ts: (a) => `tf.slice(${tsText(a, "table")}, [${tsText(a, "past")} ?? 0, 0], [${tsText(a, "x")}.shape[1], -1])`,
  py: (a) => `${pyText(a, "table").at(100)}[: ${pyText(a, "x").at(100)}.shape[1]]`,
};

/** While sampling, the positions the KV cache holds before x's. */
const PAST: Expr = { kind: "past" };

// Constructors for builders.
export const rotaryTables = (positions: Expr, dims: Expr, base: Expr): Expr => op(ROTARY_TABLES.name, { positions, dims, base });
export const rope = (x: Expr, cos: Expr, sin: Expr): Expr => op(ROPE.name, { x, cos, sin, past: PAST });
export const sinusoidalTable = (positions: Expr, width: Expr): Expr => op(SINUSOIDAL_TABLE.name, { positions, width });
export const embeddingRows = (table: Expr, x: Expr): Expr => op(EMBEDDING_ROWS.name, { table, x, past: PAST });
export const tableRows = (table: Expr, x: Expr): Expr => op(TABLE_ROWS.name, { table, x, past: PAST });

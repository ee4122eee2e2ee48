// Spelling text from a spec or a path (a description, a spec's file name) in a generated Python module, so
// that it stays data: every such string goes through one of these, each for one place it can appear.
// Escapes are Python's own (\\, \n, \xNN, \uXXXX), so what a comment shows decodes as a string literal
// would, and nothing can end the comment, literal or docstring it sits in: not a line break, not a quote,
// not `"""`. Python source cannot hold a NUL at all; it and the other invisible characters (controls, line
// separators, bidirectional overrides, a byte-order mark, a lone surrogate) are shown as escapes.

/** Characters shown as escapes wherever they appear: controls, line and paragraph separators, bidi controls, BOM. */
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const SHORT: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function code(c: string): string {
  const n = c.charCodeAt(0);
  return SHORT[c] ?? (n < 0x100 ? `\\x${n.toString(16).padStart(2, "0")}` : `\\u${n.toString(16).padStart(4, "0")}`);
}

/** `text` with backslashes doubled and the characters `keep` does not list as escapes. */
function escape(text: string, keep: readonly string[]): string {
  return text.replace(/\\/g, "\\\\").replace(INVISIBLE, (c) => (keep.includes(c) ? c : code(c)));
}

/** A double-quoted string literal whose value is `text`. */
export function pyString(text: string): string {
  return `"${escape(text, []).replace(/"/g, '\\"')}"`;
}

/** Text for the rest of a `#` comment: one line, whatever `text` holds (a path with a newline in it). */
export function pyComment(text: string): string {
  return escape(text, ["\t"]);
}

/**
 * Text for the inside of a `"""…"""` docstring: its lines stay lines, and a quote that would touch the
 * closing `"""` or make three in a row is escaped (`\"`), so a description ending in `"` or holding `"""`
 * stays inside it.
 */
export function pyDocstringBody(text: string): string {
  return escape(text, ["\n", "\t"]).replace(/"(?="|\s*$)/g, '\\"');
}

/**
 * Top-level names a generated Python module takes for itself: its imports (`torch`, `nn`, `F` for
 * torch.nn.functional, `dataclass`), what it defines besides the spec's classes (`ModelConfig`, `META`,
 * `TiedHead`, `HAS_SDPA`) and the constants Python will not rebind. A spec's class must not take one: a
 * block named `F` would replace torch.nn.functional for every line after it.
 */
export const PY_TAKEN_NAMES: ReadonlySet<string> = new Set(["torch", "nn", "F", "dataclass", "annotations", "ModelConfig", "META", "TiedHead", "HAS_SDPA", "True", "False", "None"]);

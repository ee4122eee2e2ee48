// Spelling text from a spec or a path (a description, a spec's file name) in generated TypeScript, so
// that it stays data: every such string goes through one of these, each for one place it can appear.
// Escapes are JavaScript's own (\\, \n, \uXXXX), so a reader decodes what is shown as a string literal
// would be, and nothing can end the comment or literal it sits in: not `*/`, not a line break (\n, \r,
// U+2028, U+2029), not a quote. Invisible characters that could make the text read differently from what
// runs (other control characters, bidirectional overrides, a byte-order mark, a lone surrogate) are
// shown as escapes too.

/** Characters shown as escapes wherever they appear: controls, line and paragraph separators, bidi controls, BOM. */
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const hex4 = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

const SHORT: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** `text` with backslashes doubled and the characters `keep` does not list as escapes. */
function escape(text: string, keep: readonly string[]): string {
  return text.replace(/\\/g, "\\\\").replace(INVISIBLE, (c) => (keep.includes(c) ? c : (SHORT[c] ?? hex4(c))));
}

/** A double-quoted string literal whose value is `text`. */
export function tsString(text: string): string {
  // JSON.stringify escapes quotes, backslashes, controls and lone surrogates; the rest of INVISIBLE
  // (line separators, bidi controls) is legal in a literal but escaped so it cannot mislead a reader.
  return JSON.stringify(text).replace(INVISIBLE, hex4);
}

/** Text for the rest of a `//` line comment: one line, whatever `text` holds (a path with a newline in it). */
export function tsLineComment(text: string): string {
  return escape(text, ["\t"]);
}

/**
 * Text for the body of a `/** … *\/` doc comment: its lines stay lines (the emitter prefixes each with
 * ` * `), a `*\/` in it is shown as `*\/`, which cannot close the comment.
 */
export function tsDocComment(text: string): string {
  return escape(text, ["\n", "\t"]).replace(/\*\//g, "*\\/");
}

/**
 * Top-level names a generated TypeScript file takes for itself: what it imports from runtime/nn (values
 * and types) and the globals it may call. A spec's class (a block's `class:`, the model's class made from
 * its name) must not take one: it would shadow the import, and the code would run the spec's class.
 */
export const TS_TAKEN_NAMES: ReadonlySet<string> = new Set([
  "Module", "LanguageModel", "Linear", "Embedding", "Dropout", "DropoutSeeds", "Initializer", "AttentionHead", "ModelOptions", "ModelOutput", "KvCache",
  "Array", "Boolean", "Error", "Float32Array", "Int32Array", "JSON", "Map", "Math", "Number", "Object", "Promise", "Set", "String", "Symbol",
]);

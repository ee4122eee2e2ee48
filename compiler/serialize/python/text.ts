// Spelling Python: number literals, docstrings and comments wrapped to the file's width.
import { pyComment, pyDocstringBody } from "../../text/python.js";
import { wrap } from "../typescript/format.js";

/** The widest line the emitted Python aims for (nanoGPT's model.py stays near it too). */
export const WIDTH = 100;

/** A float literal as a reader expects it: 0.2, 1e-05 → 1e-5, 3e-4. */
export function pyNum(n: number): string {
  if (Number.isInteger(n)) return `${n}.0`;
  return Math.abs(n) < 1e-3 ? n.toExponential() : String(n);
}

/** A docstring at `indent` spaces: one line when it fits, else a wrapped paragraph closed on its own line. */
export function docstring(text: string, indent: number): string[] {
  const pad = " ".repeat(indent);
  const one = `${pad}"""${text.trim()}"""`;
  if (one.length <= WIDTH) return [one];
  const lines = wrap(text, WIDTH - indent - 3);
  return [`${pad}"""${lines[0]}`, ...lines.slice(1).map((l) => `${pad}${l}`), `${pad}"""`];
}

/** `# ...` comment lines at `indent` spaces, wrapped. */
export function comment(text: string, indent: number): string[] {
  const pad = " ".repeat(indent);
  return wrap(pyComment(text), WIDTH - indent - 2).map((l) => `${pad}# ${l}`);
}

/** Text safe inside a """docstring""". */
export function docText(text: string): string {
  return pyDocstringBody(text);
}

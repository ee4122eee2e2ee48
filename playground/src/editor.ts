// The spec editor: CodeMirror 6 with YAML highlighting, completion of keys and values from
// schema/spec.schema.json (by the path of mappings and list items above the cursor, and a layer's
// `kind`), and the compiler's own located errors underlined as you type.
import { autocompletion, type CompletionContext, type CompletionResult } from "@codemirror/autocomplete";
import { yaml } from "@codemirror/lang-yaml";
import { linter, lintGutter, type Diagnostic as LintDiagnostic } from "@codemirror/lint";
import { EditorState, type Text } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { basicSetup } from "codemirror";
import type { Diagnostic } from "../../compiler/index.js";
import schemaJson from "../../schema/spec.schema.json" with { type: "json" };

interface SchemaNode {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly description?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly items?: SchemaNode;
  readonly oneOf?: readonly SchemaNode[];
  readonly anyOf?: readonly SchemaNode[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
}

const schema = schemaJson as unknown as SchemaNode & { $defs: Record<string, SchemaNode> };

const deref = (n: SchemaNode | undefined): SchemaNode | undefined => (n?.$ref ? deref(schema.$defs[n.$ref.replace("#/$defs/", "")]) : n);

/** The alternatives of a node: its oneOf/anyOf branches, dereferenced, or itself. */
function branches(n: SchemaNode | undefined): SchemaNode[] {
  const d = deref(n);
  if (!d) return [];
  const alts = d.oneOf ?? d.anyOf;
  return alts ? alts.flatMap(branches) : [d];
}

/** The object schema for a mapping, given its `kind` when it is a layer. */
function objectFor(n: SchemaNode | undefined, kind: string | undefined): SchemaNode[] {
  const objs = branches(n).filter((b) => b.properties);
  if (kind === undefined) return objs;
  const hit = objs.filter((b) => deref(b.properties!["kind"])?.const === kind);
  return hit.length > 0 ? hit : objs;
}

interface Line {
  readonly indent: number;
  readonly dash: boolean;
  /** Column of the key (after "- " on an item's first line). */
  readonly keyCol: number;
  readonly key?: string;
  readonly value?: string;
}

function parseLine(text: string): Line | undefined {
  const m = /^(\s*)(- +)?([A-Za-z_][\w]*)?\s*(:)?\s*(.*)$/.exec(text);
  if (!m || text.trim() === "" || text.trim().startsWith("#")) return undefined;
  const indent = m[1]!.length;
  const dash = m[2] !== undefined;
  return { indent, dash, keyCol: indent + (m[2]?.length ?? 0), ...(m[3] && m[4] ? { key: m[3], value: m[5]!.replace(/\s+#.*$/, "") } : {}) };
}

/**
 * The mapping the cursor's line belongs to: the keys from the root down to it (a list item adds no key),
 * and the keys already in it with their values.
 */
function context(doc: Text, lineNo: number, keyCol: number, dashHere: boolean): { path: string[]; siblings: Map<string, string> } {
  const siblings = new Map<string, string>();
  const path: string[] = [];
  let col = keyCol;
  let inItem = dashHere;
  let collecting = true;
  for (let n = lineNo - 1; n >= 1; n--) {
    const l = parseLine(doc.line(n).text);
    if (!l) continue;
    if (l.keyCol > col) continue; // deeper: a child of a sibling
    if (l.keyCol === col && !inItem) {
      if (collecting && l.key) siblings.set(l.key, l.value ?? "");
      if (l.dash) inItem = true; // the first line of this list item: the item's mapping starts here
      continue;
    }
    if (l.keyCol === col && inItem) continue; // an earlier item of the same list
    // A shallower line: the key that holds this mapping (or its list).
    collecting = false;
    if (l.key) path.unshift(l.key);
    col = l.keyCol;
    inItem = l.dash; // a parent that is itself a list item's first line: climb on past its list
  }
  return { path, siblings };
}

/** The object schemas at `path`, for a mapping whose layer kind (if any) is `kind`. */
function schemasAt(path: readonly string[], kind: string | undefined): SchemaNode[] {
  let nodes: SchemaNode[] = [schema];
  for (const key of path) {
    nodes = nodes.flatMap((n) => objectFor(n, undefined)).flatMap((o) => {
      const p = deref(o.properties?.[key]);
      if (!p) return [];
      return p.items ? [p.items] : [p];
    });
  }
  return nodes.flatMap((n) => objectFor(n, kind));
}

function valuesOf(n: SchemaNode | undefined): string[] {
  return branches(n).flatMap((b) => {
    if (b.const !== undefined) return [String(b.const)];
    if (b.enum) return b.enum.map(String);
    if (b.type === "boolean") return ["true", "false"];
    return [];
  });
}

export function specCompletion(ctx: CompletionContext): CompletionResult | null {
  const line = ctx.state.doc.lineAt(ctx.pos);
  const before = line.text.slice(0, ctx.pos - line.from);
  const valueMatch = /^(\s*)(- +)?([A-Za-z_]\w*):\s*([\w.-]*)$/.exec(before);
  const keyMatch = /^(\s*)(- +)?([A-Za-z_]\w*)?$/.exec(before);
  if (valueMatch) {
    const keyCol = valueMatch[1]!.length + (valueMatch[2]?.length ?? 0);
    const { path, siblings } = context(ctx.state.doc, line.number, keyCol, valueMatch[2] !== undefined);
    const key = valueMatch[3]!;
    const kind = key === "kind" ? undefined : siblings.get("kind");
    const candidates = [...new Set(schemasAt(path, kind).flatMap((o) => valuesOf(o.properties?.[key])))];
    if (candidates.length === 0) return null;
    return { from: ctx.pos - valueMatch[4]!.length, options: candidates.map((label) => ({ label, type: "enum" })), validFor: /^[\w.-]*$/ };
  }
  if (keyMatch && (ctx.explicit || keyMatch[3] !== undefined)) {
    const keyCol = keyMatch[1]!.length + (keyMatch[2]?.length ?? 0);
    const { path, siblings } = context(ctx.state.doc, line.number, keyCol, keyMatch[2] !== undefined);
    const objs = schemasAt(path, siblings.get("kind"));
    const seen = new Set<string>();
    const options = objs.flatMap((o) =>
      Object.entries(o.properties ?? {}).flatMap(([label, p]) => {
        if (seen.has(label) || siblings.has(label)) return [];
        seen.add(label);
        const info = deref(p)?.description;
        return [{ label, type: "property", apply: `${label}: `, ...(info ? { info } : {}) }];
      }),
    );
    if (options.length === 0) return null;
    return { from: ctx.pos - (keyMatch[3]?.length ?? 0), options, validFor: /^\w*$/ };
  }
  return null;
}

/** Where a compiler diagnostic sits in the document: its line and column, to the end of the word there. */
export function diagnosticRange(doc: Text, d: Diagnostic): { from: number; to: number } | undefined {
  if (d.loc.kind !== "file" || d.loc.line < 1 || d.loc.line > doc.lines) return undefined;
  const line = doc.line(d.loc.line);
  const from = Math.min(line.to, line.from + Math.max(0, d.loc.col - 1));
  const word = /^[^\s:,\]}]+/.exec(line.text.slice(from - line.from));
  return { from, to: Math.min(line.to, from + (word ? word[0].length : 1)) };
}

export interface SpecEditor {
  readonly view: EditorView;
  text(): string;
  setText(text: string): void;
}

/**
 * An editor whose lint source is `check`: the page compiles the text after each pause in typing and gives
 * back the diagnostics located in this file, which the editor underlines.
 */
export function createSpecEditor(parent: HTMLElement, check: (text: string) => readonly Diagnostic[]): SpecEditor {
  const lint = linter(
    (view) => {
      const diags = check(view.state.doc.toString());
      return diags.flatMap((d): LintDiagnostic[] => {
        const r = diagnosticRange(view.state.doc, d);
        return r ? [{ ...r, severity: "error", message: d.message, source: "babygpt" }] : [];
      });
    },
    { delay: 250 },
  );
  const view = new EditorView({
    parent,
    state: EditorState.create({ doc: "", extensions: [basicSetup, yaml(), autocompletion({ override: [specCompletion] }), lint, lintGutter(), EditorView.lineWrapping] }),
  });
  return {
    view,
    text: () => view.state.doc.toString(),
    setText: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
  };
}

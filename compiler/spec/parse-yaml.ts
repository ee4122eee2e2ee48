// Reads one YAML spec file into a Located value: the plain data plus the line and column of every key
// and value, so errors found after merging and validation still point into the right file.
import { createHash } from "node:crypto";
import { LineCounter, parseDocument, isMap, isSeq, isScalar, isPair, type Node as YamlNode } from "yaml";
import { fail, SpecError, type Loc } from "../diagnostics/diagnostic.js";
import { childPointer, type Located, type NodeLocs, type Pointer } from "./located.js";

export interface ParsedFile extends Located {
  /** The path as shown in messages (relative to the working directory). */
  readonly displayPath: string;
  readonly sha256: string;
}

export function parseSpecText(text: string, displayPath: string): ParsedFile {
  const lines = text.split(/\r?\n/);
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): Loc => {
    const { line, col } = counter.linePos(offset);
    return { kind: "file", file: displayPath, line, col, lineText: lines[line - 1] ?? "" };
  };

  const problems = [...doc.errors];
  if (problems.length > 0) {
    throw new SpecError(
      problems.map((e) => ({ loc: at(e.pos[0]), message: `YAML syntax error: ${firstSentence(e.message)}` })),
    );
  }
  const locs = new Map<Pointer, NodeLocs>();
  const visit = (node: YamlNode | null | undefined, pointer: Pointer, key?: Loc): void => {
    const value = node?.range ? at(node.range[0]) : key;
    if (!value) return;
    locs.set(pointer, key ? { key, value } : { value });
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        if (!isScalar(pair.key)) {
          const keyNode = pair.key as YamlNode | null;
          fail(keyNode?.range ? at(keyNode.range[0]) : value, "a key must be a plain name, not a list or a mapping");
        }
        const keyLoc = pair.key.range ? at(pair.key.range[0]) : value;
        visit(pair.value as YamlNode | null, childPointer(pointer, String(pair.key.value)), keyLoc);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => visit(item as YamlNode | null, childPointer(pointer, i)));
    }
  };
  const root = doc.contents as YamlNode | null;
  if (!root || !isMap(root)) {
    fail(root?.range ? at(root.range[0]) : at(0), "a spec must be a YAML mapping (name:, model:, …)");
  }
  visit(root, "");
  const sha256 = createHash("sha256").update(text).digest("hex");
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // yaml refuses anchors whose aliases multiply out of all proportion (a "billion laughs" file)
    fail(at(root.range?.[0] ?? 0), `YAML error: ${firstSentence((e as Error).message)}`);
  }
  return { value, locs, displayPath, sha256 };
}

/** yaml's messages carry a code excerpt after the first line; we print our own. */
function firstSentence(message: string): string {
  return message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

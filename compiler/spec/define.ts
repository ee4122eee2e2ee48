// User-defined kinds: a spec's top-level `define:` maps a name to a layer list, and `kind: NAME` anywhere
// in the model inserts it as a block of its own (a class named after it, NAME in parameter paths unless
// the use gives a name). Expanded on the located value, before validation, so the schema, lowering and
// everything after see ordinary blocks; what was expanded where is kept, for inspect's rows. A copied
// definition keeps its own positions, each noted with the use it came through, so an error inside it
// points into the definition and says where it was used.
import { fail, locHeader, type Loc } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import { childPointer, isPlainObject, locate, type Located, type NodeLocs, type Pointer } from "./located.js";

/** Where a defined kind was inserted: the block's pointer, and the kind it came from. */
export type Expansions = ReadonlyMap<Pointer, string>;

const NAME = /^[a-z][a-z0-9_]*$/;

/** snake_case → PascalCase: gptj_block → GptjBlock. */
const pascal = (name: string): string =>
  name
    .split("_")
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");

/** The spec with every use of a defined kind replaced by a block of its layers, and the `define` key gone. */
export function expandDefinitions(spec: Located, builtIn: readonly string[]): { located: Located; expansions: Expansions; defined: readonly string[] } {
  const root = spec.value as Record<string, unknown>;
  const defs = root["define"];
  if (defs === undefined) return { located: spec, expansions: new Map(), defined: [] };
  const at = (p: Pointer, part: "key" | "value" = "value"): Loc => locate(spec.locs, p, part);
  if (!isPlainObject(defs)) fail(at("/define"), "define maps names to layer lists: define: { my_block: [ …layers… ] }");
  for (const [name, list] of Object.entries(defs)) {
    const p = childPointer("/define", name);
    if (!NAME.test(name)) fail(at(p, "key"), `a defined kind's name is lower-case letters, digits and underscores, starting with a letter; got "${name}"`);
    if (builtIn.includes(name)) fail(at(p, "key"), `"${name}" is a built-in kind; a definition needs a name of its own`);
    if (!Array.isArray(list) || list.length === 0) fail(at(p), `the definition of ${name} must be a non-empty list of layers`);
  }
  const names = Object.keys(defs);
  const locs = new Map(spec.locs);
  const expansions = new Map<Pointer, string>();

  /** The definition's layer list, copied to `to`, its own uses expanded; its locations noted with the use. */
  const insert = (name: string, to: Pointer, use: Loc, stack: readonly string[]): unknown[] => {
    if (stack.includes(name)) fail(at(childPointer("/define", name), "key"), `define cycle: ${[...stack, name].join(" → ")}`);
    const from = childPointer("/define", name);
    const via = `in ${name}, used at ${locHeader(use)}`;
    for (const [p, l] of spec.locs) {
      if (p !== from && !p.startsWith(`${from}/`)) continue;
      locs.set(to + p.slice(from.length), noted(l, via));
    }
    return expandList((defs as Record<string, unknown>)[name] as unknown[], to, [...stack, name]);
  };

  const expandLayer = (layer: unknown, p: Pointer, stack: readonly string[]): unknown => {
    if (!isPlainObject(layer)) return layer;
    const kind = layer["kind"];
    if (typeof kind === "string" && names.includes(kind)) {
      const extra = Object.keys(layer).filter((k) => k !== "kind" && k !== "name");
      if (extra.length > 0) fail(at(childPointer(p, extra[0]!), "key"), `a defined kind (${kind}) takes a name and nothing else; put "${extra[0]}" in its definition`);
      expansions.set(p, kind);
      const body = insert(kind, childPointer(p, "body"), at(childPointer(p, "kind")), stack);
      return { kind: "block", class: pascal(kind), name: typeof layer["name"] === "string" ? layer["name"] : kind, body };
    }
    // Object.fromEntries defines every key as the object's own, __proto__ included (no prototype to set).
    return Object.fromEntries(
      Object.entries(layer).map(([k, v]) => {
        // A parallel layer's branches are lists of lists.
        if (k === "branches" && Array.isArray(v)) return [k, v.map((b, i) => (Array.isArray(b) ? expandList(b, childPointer(childPointer(p, k), i), stack) : b))];
        return [k, Array.isArray(v) ? expandList(v, childPointer(p, k), stack) : v];
      }),
    );
  };

  const expandList = (list: readonly unknown[], p: Pointer, stack: readonly string[]): unknown[] => list.map((layer, i) => expandLayer(layer, childPointer(p, i), stack));

  const model = root["model"];
  const rest = Object.fromEntries(Object.entries(root).filter(([k]) => k !== "define"));
  const value = isPlainObject(model) && Array.isArray(model["layers"]) ? { ...rest, model: { ...model, layers: expandList(model["layers"], "/model/layers", []) } } : rest;
  for (const p of [...locs.keys()]) if (p === "/define" || p.startsWith("/define/")) locs.delete(p);
  return { located: { value, locs }, expansions, defined: names };
}

function noted(l: NodeLocs, via: string): NodeLocs {
  const note = (loc: Loc): Loc => (loc.kind === "file" ? { ...loc, via: loc.via ? `${loc.via}; ${via}` : via } : loc);
  return l.key ? { key: note(l.key), value: note(l.value) } : { value: note(l.value) };
}

/** The unknown-kind message's tail: every kind there is, built in and defined, with the nearest first. */
export function kindsList(kind: string, builtIn: readonly string[], defined: readonly string[]): string {
  const all = [...builtIn, ...defined];
  return `${didYouMean(kind, all)} (the kinds: ${builtIn.join(", ")}${defined.length ? `; defined here: ${defined.join(", ")}` : ""})`;
}

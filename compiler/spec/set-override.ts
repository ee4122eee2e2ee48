// `--set key=value` overrides, nanoGPT-configurator style: a dotted path into the spec and a YAML scalar
// (or flow list). The schema then rejects unknown keys and wrong types, naming the --set argument.
import { parse as parseYaml } from "yaml";
import { fail, type Loc } from "../diagnostics/diagnostic.js";
import { childPointer, isPlainObject, setOwn, subtree, type Located, type NodeLocs, type Pointer } from "./located.js";

export function applySet(spec: Located, arg: string): Located {
  const loc: Loc = { kind: "cli", arg: `--set ${arg}` };
  const eq = arg.indexOf("=");
  if (eq <= 0) fail(loc, 'expected key=value, e.g. --set training.optimizer.lr=3e-4');
  const path = arg.slice(0, eq).split(".");
  if (path.some((s) => s === "")) fail(loc, `"${arg.slice(0, eq)}" is not a dotted key path`);
  // no spec has these keys; as a path they would reach Object.prototype, not the spec
  const hidden = path.find((s) => s === "__proto__" || s === "prototype" || s === "constructor");
  if (hidden !== undefined) fail(loc, `"${hidden}" is not a key of a spec`);
  let parsed: unknown;
  try {
    parsed = parseYaml(arg.slice(eq + 1));
  } catch {
    fail(loc, `cannot read the value "${arg.slice(eq + 1)}"`);
  }

  const root = structuredClone(spec.value) as Record<string, unknown>;
  let node: unknown = root;
  let pointer: Pointer = "";
  path.forEach((segment, i) => {
    const last = i === path.length - 1;
    if (Array.isArray(node)) {
      const index = Number(segment);
      if (!Number.isInteger(index) || index < 0 || index >= node.length) {
        fail(loc, `"${path.slice(0, i).join(".")}" is a list of ${node.length}; "${segment}" is not an index in it`);
      }
      if (last) node[index] = parsed;
      else node = node[index];
    } else if (isPlainObject(node)) {
      if (last) setOwn(node, segment, parsed);
      else {
        if (!Object.hasOwn(node, segment)) setOwn(node, segment, {});
        node = node[segment];
      }
    } else {
      fail(loc, `"${path.slice(0, i).join(".")}" is not a mapping, so it has no "${segment}"`);
    }
    pointer = childPointer(pointer, segment);
  });

  const locs = new Map<Pointer, NodeLocs>(spec.locs);
  for (const [p] of subtree(spec.locs, pointer)) locs.delete(p);
  const mark = (value: unknown, p: Pointer): void => {
    locs.set(p, { key: loc, value: loc });
    if (Array.isArray(value)) value.forEach((v, i) => mark(v, childPointer(p, i)));
    else if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) mark(v, childPointer(p, k));
  };
  mark(parsed, pointer);
  // Intermediate mappings the override created have no location of their own; blame the argument.
  for (let p = pointer; p !== ""; p = p.slice(0, p.lastIndexOf("/"))) if (!locs.has(p)) locs.set(p, { value: loc });
  return { value: root, locs };
}

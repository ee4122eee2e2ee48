// Deep merge for `extends`: the child's fields win, mappings merge key by key, lists and scalars are
// replaced whole. Locations follow the values, so a field inherited from a parent still points there.
import { childPointer, isPlainObject, setOwn, subtree, type Located, type NodeLocs, type Pointer } from "./located.js";

export function mergeLocated(base: Located, over: Located): Located {
  const locs = new Map<Pointer, NodeLocs>();
  const value = merge(base, over, "", locs);
  return { value, locs };
}

function merge(base: Located, over: Located, pointer: Pointer, out: Map<Pointer, NodeLocs>): unknown {
  const a = valueAt(base.value, pointer);
  const b = valueAt(over.value, pointer);
  if (!isPlainObject(a) || !isPlainObject(b)) {
    for (const [p, l] of subtree(over.locs, pointer)) out.set(p, l);
    return b;
  }
  const own = over.locs.get(pointer) ?? base.locs.get(pointer);
  if (own) out.set(pointer, own);
  const result: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const p = childPointer(pointer, key);
    // own keys only: a spec's "__proto__" is a key (which validation then refuses), not the prototype
    if (Object.hasOwn(a, key) && Object.hasOwn(b, key)) {
      setOwn(result, key, merge(base, over, p, out));
    } else {
      const from = Object.hasOwn(b, key) ? over : base;
      for (const [q, l] of subtree(from.locs, p)) out.set(q, l);
      setOwn(result, key, Object.hasOwn(b, key) ? b[key] : a[key]);
    }
  }
  return result;
}

function valueAt(root: unknown, pointer: Pointer): unknown {
  if (pointer === "") return root;
  let node = root;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isPlainObject(node) && !Array.isArray(node)) return undefined;
    if (!Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

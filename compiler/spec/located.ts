// A parsed spec value together with where each part of it came from, keyed by JSON pointer
// ("/model/layers/2/heads"), so every later stage can name file:line:col.
import type { Loc } from "../diagnostics/diagnostic.js";

export type Pointer = string;

/** Where a node sits: its key (for mapping entries) and its value. */
export interface NodeLocs {
  readonly key?: Loc;
  readonly value: Loc;
}

export type LocMap = ReadonlyMap<Pointer, NodeLocs>;

export interface Located {
  readonly value: unknown;
  readonly locs: LocMap;
}

export function escapeSegment(segment: string | number): string {
  return String(segment).replace(/~/g, "~0").replace(/\//g, "~1");
}

export function childPointer(pointer: Pointer, segment: string | number): Pointer {
  return `${pointer}/${escapeSegment(segment)}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Sets an own property, "__proto__" included (an assignment would set the object's prototype instead). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The entries of `locs` at `pointer` and below it. */
export function subtree(locs: LocMap, pointer: Pointer): [Pointer, NodeLocs][] {
  const prefix = pointer + "/";
  return [...locs].filter(([p]) => p === pointer || p.startsWith(prefix));
}

/**
 * The location to blame for a pointer: the value's own location, or failing that (a key the spec never
 * wrote, filled by a default) the nearest ancestor that the spec did write.
 */
export function locate(locs: LocMap, pointer: Pointer, part: "key" | "value" = "value"): Loc {
  for (let p = pointer; ; p = p.slice(0, p.lastIndexOf("/"))) {
    const hit = locs.get(p);
    if (hit) return (part === "key" && p === pointer ? hit.key : undefined) ?? hit.value;
    if (p === "") break;
  }
  throw new Error(`no source location for ${pointer}`);
}

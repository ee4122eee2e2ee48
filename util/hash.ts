// Hashing values the way the project records them: sha256 hex digests, and JSON with sorted keys so that
// equal values hash equally (a spec's model section, a structure to compare).
import { createHash } from "node:crypto";

/** JSON with sorted keys, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

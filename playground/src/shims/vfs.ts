// The files the compiler reads, for the browser: every spec in specs/, the schema, and the templates,
// bundled as text, plus the spec being edited. Paths are project paths under /project (PROJECT_ROOT in
// the page). Files the compiler finds through `new URL(..., import.meta.url)` arrive under whatever
// path the bundler gives its module, so those are also found by their file name.
const bundled: Record<string, string> = {
  ...(import.meta.glob("../../../specs/*.yaml", { query: "?raw", import: "default", eager: true }) as Record<string, string>),
  ...(import.meta.glob("../../../schema/spec.schema.json", { query: "?raw", import: "default", eager: true }) as Record<string, string>),
  ...(import.meta.glob("../../../compiler/serialize/*/*.hbs", { query: "?raw", import: "default", eager: true }) as Record<string, string>),
};

export const ROOT = "/project";
const files = new Map<string, string>(Object.entries(bundled).map(([k, v]) => [`${ROOT}/${k.replace(/^(\.\.\/)+/, "")}`, v]));

/** The specs of the ladder, as project paths (specs/01-bigram.yaml, …), in order. */
export function ladderSpecs(): string[] {
  return [...files.keys()].filter((p) => p.startsWith(`${ROOT}/specs/`)).map((p) => p.slice(ROOT.length + 1)).sort();
}

export function writeVirtual(path: string, text: string): void {
  files.set(path, text);
}

export function findVirtual(path: string): string | undefined {
  // A small file the bundler inlined: its URL is its content.
  const inline = /;base64,([A-Za-z0-9+/=]*)$/.exec(path);
  if (inline) return new TextDecoder().decode(Uint8Array.from(atob(inline[1]!), (c) => c.charCodeAt(0)));
  const exact = files.get(path.replace(/\/+/g, "/"));
  if (exact !== undefined) return exact;
  if (path.startsWith(`${ROOT}/`)) return undefined;
  const name = path.split("/").pop()!.replace(/-[\w-]{8}(\.\w+)$/, "$1"); // a bundler's hashed asset name
  const hits = [...files.entries()].filter(([p]) => !p.startsWith(`${ROOT}/specs/`) && p.endsWith(`/${name}`));
  return hits.length === 1 ? hits[0]![1] : undefined;
}

// What the TypeScript emitter is, as one sha256: every file of compiler/ and util/ (code and templates)
// and the versions of the packages that print its output. The emitted code is a function of the IR, the
// emit options and this, so `train` can record "this IR gave a file with this hash" once and, on a later
// run with the same fingerprint, check generated/ against that hash without loading the emitter (ts-morph
// and the TypeScript compiler under it). Any edit to the compiler changes the fingerprint, and the next
// run emits again.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** The packages the serializer prints through (ts-morph, its TypeScript, its writer) and its templates'. */
const PRINTERS = ["ts-morph", "@ts-morph/common", "code-block-writer", "handlebars"] as const;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** A package's version, from the package.json above its entry (some packages do not export theirs). */
function versionOf(name: string): string {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = dirname(require.resolve(name));
  } catch {
    return "absent";
  }
  for (; dirname(dir) !== dir; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === name) return pkg.version ?? "unknown";
    } catch {
      // no package.json here: one folder up
    }
  }
  return "unknown";
}

/**
 * sha256 of the files under `dirs` (folders of `root`; each file's path from `root` and its bytes, in
 * path order) and of `packages`' versions.
 */
export function filesFingerprint(root: string, dirs: readonly string[], packages: readonly string[]): string {
  const hash = createHash("sha256");
  for (const file of dirs.flatMap((d) => filesUnder(join(root, d))).sort()) {
    const content = readFileSync(file);
    hash.update(`${relative(root, file).split(sep).join("/")}\0${content.length}\0`).update(content);
  }
  for (const name of packages) hash.update(`${name}@${versionOf(name)}\0`);
  return hash.digest("hex");
}

let memo: string | undefined;

/** The fingerprint of this emitter: compiler/ and util/, and the printing packages' versions. */
export function emitterFingerprint(): string {
  memo ??= filesFingerprint(dirname(dirname(fileURLToPath(import.meta.url))), ["compiler", "util"], PRINTERS);
  return memo;
}

// The emitter's fingerprint keys `train`'s record of what the emitter gives for a model (runtime/
// model-source.ts): any change to a file under the fingerprinted folders, a file added or renamed, or a
// printing package's version, must change it; the same files must give the same one.
import { mkdtempSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { emitterFingerprint, filesFingerprint } from "../../compiler/fingerprint.js";

const root = mkdtempSync(join(tmpdir(), "babygpt-fingerprint-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("the emitter's fingerprint", () => {
  mkdirSync(join(root, "compiler", "serialize"), { recursive: true });
  mkdirSync(join(root, "util"));
  writeFileSync(join(root, "compiler", "emit.ts"), "export const a = 1;\n");
  writeFileSync(join(root, "compiler", "serialize", "header.hbs"), "// {{name}}\n");
  writeFileSync(join(root, "util", "hash.ts"), "export const h = 2;\n");
  const of = (packages: readonly string[] = ["yaml"]): string => filesFingerprint(root, ["compiler", "util"], packages);

  it("is the same for the same files, and changes with a byte, a new file, a rename or the packages", () => {
    const first = of();
    expect(of()).toBe(first);
    writeFileSync(join(root, "compiler", "serialize", "header.hbs"), "// {{Name}}\n");
    const edited = of();
    expect(edited).not.toBe(first);
    writeFileSync(join(root, "util", "extra.ts"), "");
    const added = of();
    expect(added).not.toBe(edited);
    renameSync(join(root, "util", "extra.ts"), join(root, "util", "other.ts"));
    expect(of()).not.toBe(added);
    expect(of(["yaml", "handlebars"])).not.toBe(of());
  });

  it("of this checkout is stable within a process and differs from an empty tree's", () => {
    expect(emitterFingerprint()).toMatch(/^[0-9a-f]{64}$/);
    expect(emitterFingerprint()).toBe(emitterFingerprint());
    expect(emitterFingerprint()).not.toBe(filesFingerprint(root, [], []));
  });
});

// Shared test helpers: temporary spec files, the data directory, and loading a spec's model in-process.
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { formatDiagnostic, SpecError } from "../../compiler/diagnostics/diagnostic.js";
import { PROJECT_ROOT } from "../../runtime/paths.js";

export { PROJECT_ROOT };

/** Tests read tinyshakespeare from ../shared/data beside the checkout unless BABYGPT_DATA_DIR says otherwise. */
export function useSharedData(): string {
  process.env["BABYGPT_DATA_DIR"] ||= resolve(PROJECT_ROOT, "../shared/data");
  return process.env["BABYGPT_DATA_DIR"];
}

/** Writes files (name → content) into a fresh temporary directory and returns its path. */
export function tempFiles(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "babygpt-test-"));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

/** The formatted diagnostics a function throws, or a failure if it throws something else or nothing. */
export function diagnosticsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof SpecError) return e.diagnostics.map(formatDiagnostic);
    throw e;
  }
  throw new Error("expected a SpecError, but nothing was thrown");
}

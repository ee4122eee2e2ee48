// `babygpt diff`: the difference between two specs' generated code, so each ladder step's concept can be
// read as the lines of code it adds.
import { createTwoFilesPatch } from "diff";
import { compileSpec, projectAt } from "../../compiler/compile.js";
import { PROJECT_ROOT } from "../paths.js";

/** A unified diff of the code emitted for spec A and spec B (paths relative to the project root). */
export function generatedDiff(specA: string, specB: string, context = 3): string {
  const project = projectAt(PROJECT_ROOT);
  const a = compileSpec(project, specA);
  const b = compileSpec(project, specB);
  // The header comment and the meta fields (paths and hashes) always differ and say nothing about the
  // architecture.
  const noise = /^(\/\/ |\s+(name|spec|specSha256|modelHash): ")/;
  const body = (text: string): string => text.split("\n").filter((l) => !noise.test(l)).join("\n");
  const rel = (p: string): string => p.slice(PROJECT_ROOT.length + 1);
  return createTwoFilesPatch(rel(a.outFile), rel(b.outFile), body(a.text), body(b.text), a.ir.name, b.ir.name, { context });
}

/** Lines added and removed, for the report's summary column. */
export function diffStat(patch: string): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const line of patch.split("\n")) {
    if (line.startsWith("+") && !line.startsWith("+++")) added++;
    else if (line.startsWith("-") && !line.startsWith("---")) removed++;
  }
  return { added, removed };
}

// `babygpt diff <specA> <specB>`
import { relative, resolve } from "node:path";
import type { Command } from "commander";
import { PROJECT_ROOT } from "../../paths.js";
import { useColor } from "../output.js";
import { parseIntOption } from "../parse.js";

export function registerDiff(program: Command): void {
  program
    .command("diff")
    .description("show how two specs' generated code differs (unified diff)")
    .argument("<specA>", "spec file")
    .argument("<specB>", "spec file")
    .option("--context <n>", "lines of context", parseIntOption("--context", 0), 3)
    .action(async (a: string, b: string, opts: { context: number }) => {
      const { generatedDiff } = await import("../../ladder/diff.js");
      const rel = (p: string): string => relative(PROJECT_ROOT, resolve(p));
      const patch = generatedDiff(rel(a), rel(b), opts.context);
      const color = useColor(process.stdout);
      for (const line of patch.split("\n")) {
        if (!color) console.log(line);
        else if (line.startsWith("+") && !line.startsWith("+++")) console.log(`\x1b[32m${line}\x1b[0m`);
        else if (line.startsWith("-") && !line.startsWith("---")) console.log(`\x1b[31m${line}\x1b[0m`);
        else if (line.startsWith("@@")) console.log(`\x1b[36m${line}\x1b[0m`);
        else console.log(line);
      }
    });
}

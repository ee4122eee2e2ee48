// `babygpt compile [specs…] [--check] [--target typescript|pytorch|all]`
import { relative } from "node:path";
import type { Command } from "commander";
import { compileAll, projectAt, TARGETS, type Target } from "../../../compiler/compile.js";
import { UserError } from "../../errors.js";
import { PROJECT_ROOT } from "../../paths.js";

export function registerCompile(program: Command): void {
  program
    .command("compile")
    .description("compile specs to TypeScript in generated/ and PyTorch in generated/torch/ (default: every spec in specs/)")
    .argument("[specs...]", "spec files to compile")
    .option("--check", "write nothing; exit 1 and list the generated files that differ from what the specs produce")
    .option("--target <target>", `what to emit: ${[...TARGETS, "all"].join(", ")}`, "all")
    .action((specs: string[], opts: { check?: boolean; target: string }) => {
      const targets = parseTarget(opts.target);
      const project = projectAt(PROJECT_ROOT);
      const abs = specs.map((s) => relative(PROJECT_ROOT, s.startsWith("/") ? s : `${process.cwd()}/${s}`));
      const result = compileAll(project, abs, opts.check ?? false, targets);
      const show = (f: string): string => relative(process.cwd(), f);
      if (opts.check) {
        if (result.stale.length > 0) {
          console.error(`generated code is out of date with the specs (run \`npx babygpt compile\`):`);
          for (const f of result.stale) console.error(`  ${show(f)}`);
          process.exitCode = 1;
        } else {
          console.log(`generated/ is up to date (${result.unchanged.length} files)`);
        }
        return;
      }
      for (const f of result.written) console.log(`wrote ${show(f)}`);
      if (result.written.length === 0) console.log(`generated/ is up to date (${result.unchanged.length} files)`);
    });
}

function parseTarget(value: string): Target[] {
  if (value === "all") return [...TARGETS];
  if ((TARGETS as readonly string[]).includes(value)) return [value as Target];
  throw new UserError(`--target must be ${[...TARGETS, "all"].join(", ")}; got "${value}"`);
}

// `babygpt resolve <spec>`: the spec after extends, --set and schema defaults, as JSON or YAML. Shows
// exactly what the compiler and the trainer see.
import type { Command } from "commander";
import { repeatable, SET_HELP } from "../parse.js";

export function registerResolve(program: Command): void {
  program
    .command("resolve")
    .description("print a spec after extends, --set overrides and defaults")
    .argument("<spec>", "spec file")
    .option("--set <key=value>", SET_HELP, repeatable)
    .option("--json", "print JSON instead of YAML")
    .action(async (specPath: string, opts: { set?: string[]; json?: boolean }) => {
      const { loadSpec } = await import("../../../compiler/index.js");
      const { stringify } = await import("yaml");
      const { spec } = loadSpec(specPath, { sets: opts.set ?? [] });
      process.stdout.write(opts.json ? `${JSON.stringify(spec, null, 2)}\n` : stringify(spec));
    });
}

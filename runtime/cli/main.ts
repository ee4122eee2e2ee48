// The babygpt command line: one program, a subcommand per job. Bad input exits 2 with a located message
// and no stack trace; --debug adds the stack for everything else. Every start pays for what this file
// imports, whatever the subcommand: the commands import what their work needs (TensorFlow.js, ts-morph,
// the native addon) inside their actions.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { releaseBackends } from "../backend/release.js";
import { UserError } from "../errors.js";
import { PROJECT_ROOT } from "../paths.js";
import { guardOutput } from "./broken-output.js";
import { registerCommands } from "./commands/index.js";

// `babygpt … | head` closes stdout early; that is the reader's choice, not an error (and a training goes on).
guardOutput();

/**
 * Commander's "did you mean" weighs edit distance only, so `--temp` got `--help`. An unknown flag that
 * begins a known one (`--temp` → `--temperature`) is suggested first.
 */
class BabygptCommand extends Command {
  override createCommand(name?: string): Command {
    return new BabygptCommand(name);
  }

  unknownOption(flag: string): void {
    const name = flag.split("=")[0]!;
    const longs: string[] = [];
    for (let c: Command | null = this; c; c = c.parent) longs.push(...c.options.map((o) => o.long).filter((l): l is string => l !== undefined));
    const starting = name.startsWith("--") && name.length > 3 ? longs.filter((l) => l.startsWith(name)) : [];
    if (starting.length > 0) this.error(`error: unknown option '${flag}'\n(Did you mean ${starting.join(" or ")}?)`, { code: "commander.unknownOption" });
    // commander's own suggestion otherwise
    (Command.prototype as unknown as { unknownOption(this: Command, flag: string): void }).unknownOption.call(this, flag);
  }
}

const version = (JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string }).version;

const program = new BabygptCommand();
program
  .name("babygpt")
  .description("Declare a GPT in YAML, compile it to readable TypeScript, train it on TensorFlow.js.")
  .version(version, "-V, --version", "print babygpt's version")
  .option("--debug", "print stack traces of internal errors")
  .showSuggestionAfterError(true)
  // Commander's own messages are printed by report(), on one line like every other error.
  .configureOutput({ outputError: () => {} })
  .exitOverride();
registerCommands(program);

/** "error: unknown option '--itres'\n(Did you mean --iters?)" → one line, with where to find usage. */
function commanderMessage(error: CommanderError): string {
  const text = error.message.replace(/\s*\n\s*\(Did you mean (.*)\?\)\s*$/s, "; did you mean $1?").replace(/\s*\n\s*/g, " ");
  const sub = program.commands.find((c) => process.argv.slice(2).find((a) => !a.startsWith("-")) === c.name());
  return `${text.startsWith("error:") ? text : `error: ${text}`} (see \`babygpt ${sub ? `${sub.name()} ` : ""}--help\`)`;
}

function report(error: unknown): number {
  if (error instanceof CommanderError) {
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return 0;
    console.error(commanderMessage(error));
    return 2;
  }
  // The compiler's located errors (SpecError), known by name: its message is the diagnostics, formatted.
  // main.ts does not import the compiler, which would load it for every command's start.
  if (error instanceof Error && error.name === "SpecError") {
    console.error(error.message);
    return 2;
  }
  if (error instanceof UserError) {
    console.error(`error: ${error.message}`);
    return 2;
  }
  const debug = process.argv.includes("--debug");
  const message = error instanceof Error ? error.message : String(error);
  console.error(`internal error: ${message}`);
  if (debug && error instanceof Error && error.stack) console.error(error.stack);
  else console.error("(run again with --debug for the stack trace)");
  return 1;
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = report(error);
} finally {
  await releaseBackends();
}

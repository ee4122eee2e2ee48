// The babygpt command line: one program, a subcommand per job. Bad input exits 2 with a located message
// and no stack trace; --debug adds the stack for everything else.
import { Command, CommanderError } from "commander";
import { SpecError, formatDiagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { UserError } from "../errors.js";
import { registerCommands } from "./commands/index.js";

// `babygpt … | head` closes stdout early; that is the reader's choice, not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

const program = new Command();
program
  .name("babygpt")
  .description("Declare a GPT in YAML, compile it to readable TypeScript, train it on TensorFlow.js.")
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
  if (error instanceof SpecError) {
    console.error(error.diagnostics.map(formatDiagnostic).join("\n"));
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
}

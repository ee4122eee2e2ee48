// Every subcommand, registered on the program.
import type { Command } from "commander";
import { registerCompile } from "./compile.js";
import { registerInspect } from "./inspect.js";
import { registerResolve } from "./resolve.js";

export function registerCommands(program: Command): void {
  registerCompile(program);
  registerInspect(program);
  registerResolve(program);
}

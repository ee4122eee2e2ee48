// Every subcommand, registered on the program.
import type { Command } from "commander";
import { registerAttention } from "./attention.js";
import { registerBench } from "./bench.js";
import { registerCompile } from "./compile.js";
import { registerData } from "./data.js";
import { registerDemo } from "./demo.js";
import { registerDiff } from "./diff.js";
import { registerEval } from "./eval.js";
import { registerInspect } from "./inspect.js";
import { registerLadder } from "./ladder.js";
import { registerParity } from "./parity.js";
import { registerPlot } from "./plot.js";
import { registerResolve } from "./resolve.js";
import { registerSample } from "./sample.js";
import { registerTrain } from "./train.js";
import { registerZoo } from "./zoo.js";

export function registerCommands(program: Command): void {
  registerDemo(program);
  registerTrain(program);
  registerSample(program);
  registerEval(program);
  registerLadder(program);
  registerZoo(program);
  registerBench(program);
  registerPlot(program);
  registerAttention(program);
  registerData(program);
  registerCompile(program);
  registerInspect(program);
  registerParity(program);
  registerDiff(program);
  registerResolve(program);
}

// Versions recorded with every run and benchmark.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "./paths.js";

function packageVersion(dir: string): string {
  try {
    return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

export function versions(): Record<string, string> {
  return {
    babygpt: packageVersion(PROJECT_ROOT),
    tfjs: packageVersion(join(PROJECT_ROOT, "node_modules/@tensorflow/tfjs-core")),
    node: process.versions.node,
  };
}

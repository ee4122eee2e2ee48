// One bad-input case through the real command line, as bad-input.test.ts and hostile-input.test.ts run
// them: in a directory of its own holding a copy of a small trained run, the command must exit 2 with
// one message (and, for a spec error, the quoted line and its caret), print no stack trace, and change
// no file there or in generated/.
import { cpSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { tempFiles } from "../helpers/project.js";
import { PROJECT_ROOT, runCli, snapshot, stackLines } from "./cli.js";

const GENERATED = join(PROJECT_ROOT, "generated");

export interface RefusalCase {
  readonly name: string;
  /** Sets up the case in its own directory (`run` is a copy of the fixture run in it) and returns the arguments. */
  readonly setup: (dir: string, run: string) => string[];
  /** The error, the whole of its first line; a function of the case's directory where it names it. */
  readonly want: string | ((dir: string) => string);
  /** Further lines stderr may hold after the message (a spec error quotes the line and marks the column). */
  readonly quote?: readonly string[];
  /** Lines the command may log before it fails (training logs its backend before it loads weights). */
  readonly logsFirst?: boolean;
  /** Environment variables for the command. */
  readonly env?: (dir: string) => Record<string, string>;
  /** The working directory (default: the project root). */
  readonly cwd?: (dir: string) => string;
}

export async function expectRefused(c: RefusalCase, fixture: string): Promise<void> {
  const dir = tempFiles({});
  const run = join(dir, "run");
  cpSync(fixture, run, { recursive: true });
  const args = c.setup(dir, run);
  const message = typeof c.want === "string" ? c.want : c.want(dir);
  const before = snapshot(dir, GENERATED);
  const r = await runCli(args, c.env?.(dir) ?? {}, c.cwd ? { cwd: c.cwd(dir) } : {});
  expect(stackLines(r.stderr)).toEqual([]);
  const lines = r.stderr.replace(/\n$/, "").split("\n");
  if (c.logsFirst) {
    expect(lines.at(-1)).toBe(message);
    expect(lines.filter((l) => l.startsWith("error:"))).toHaveLength(1);
  } else {
    expect(lines).toEqual([message, ...(c.quote ?? [])]);
  }
  expect(r.code).toBe(2);
  expect(snapshot(dir, GENERATED)).toEqual(before);
}

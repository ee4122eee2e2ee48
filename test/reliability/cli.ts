// Running the real `babygpt` command in a child process, and fingerprinting directories so a test can
// show that a refused command changed nothing.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { PROJECT_ROOT, useSharedData } from "../helpers/project.js";

export { PROJECT_ROOT };

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Running {
  readonly child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves once stderr contains `text` (or the process has ended). */
  waitForStderr(text: string | RegExp): Promise<boolean>;
  readonly done: Promise<CliResult>;
}

export interface CliOptions {
  /** The working directory (default: the project root). */
  readonly cwd?: string;
}

/** Starts `node bin/babygpt.mjs ARGS` in the project root, with the shared corpus as BABYGPT_DATA_DIR. */
export function startCli(args: readonly string[], env: Readonly<Record<string, string>> = {}, options: CliOptions = {}): Running {
  const dataDir = useSharedData();
  const child = spawn(process.execPath, [join(PROJECT_ROOT, "bin/babygpt.mjs"), ...args], {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: { ...process.env, BABYGPT_DATA_DIR: dataDir, FORCE_COLOR: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiters: { test: (s: string) => boolean; resolve: (ok: boolean) => void }[] = [];
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
    for (const w of [...waiters]) {
      if (w.test(stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(true);
      }
    }
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      for (const w of waiters.splice(0)) w.resolve(false);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    stderr: () => stderr,
    waitForStderr(text) {
      const test = (s: string): boolean => (typeof text === "string" ? s.includes(text) : text.test(s));
      if (test(stderr)) return Promise.resolve(true);
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(false);
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
    done,
  };
}

export function runCli(args: readonly string[], env: Readonly<Record<string, string>> = {}, options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, env, options).done;
}

export interface TerminalRun {
  /** Everything the terminal showed (stdout and stderr together, with the terminal's \r\n). */
  readonly output: string;
  readonly code: number | null;
}

/**
 * Runs a shell command line in a real pseudo-terminal (util-linux `script`), `columns` wide, in the
 * project root. `keys` are typed into the terminal once the output contains `after` (Ctrl-C is "\x03").
 */
export function runInTerminal(command: string, options: { columns?: number; env?: Readonly<Record<string, string | undefined>>; keys?: readonly { after: string | RegExp; send: string }[] } = {}): Promise<TerminalRun> {
  const dataDir = useSharedData();
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, BABYGPT_DATA_DIR: dataDir, TERM: "xterm", ...options.env })) if (v !== undefined) env[k] = v;
  const line = `stty cols ${options.columns ?? 80} rows 24; ${command}`;
  const child = spawn("script", ["-qfec", line, "/dev/null"], { cwd: PROJECT_ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  const pending = [...(options.keys ?? [])];
  const onData = (d: Buffer): void => {
    output += d.toString("utf8");
    while (pending.length > 0) {
      const { after, send } = pending[0]!;
      if (!(typeof after === "string" ? output.includes(after) : after.test(output))) break;
      pending.shift();
      child.stdin!.write(send);
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ output, code }));
  });
}

/** Every file and folder under the given paths, with a sha256 of each file's content. */
export function snapshot(...paths: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (root: string, p: string): void => {
    const key = `${root}:${relative(root, p) || "."}`;
    if (!existsSync(p)) {
      out[key] = "missing";
      return;
    }
    const st = statSync(p);
    if (st.isDirectory()) {
      out[key] = "dir";
      for (const name of readdirSync(p).sort()) walk(root, join(p, name));
    } else if (st.isFile()) {
      out[key] = createHash("sha256").update(readFileSync(p)).digest("hex");
    } else {
      out[key] = "special"; // a named pipe: reading it would wait for a writer
    }
  };
  for (const p of paths) walk(p, p);
  return out;
}

/** Lines that look like a JavaScript stack trace. */
export function stackLines(text: string): string[] {
  return text.split("\n").filter((l) => /^\s+at /.test(l));
}

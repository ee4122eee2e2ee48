#!/usr/bin/env node
// The `babygpt` command. The project is TypeScript run through tsx's loader, so there is no build step:
// after `npm ci` this works as it is, and so does importing a model file that `train` has just generated.
//
// Ctrl-C: a terminal sends SIGINT to its whole foreground process group. Started through npx or npm run
// (npm → sh -c → node), that group holds npm and its shell too, and the shell, having seen the SIGINT,
// reports the command as killed by it (exit 130) even after babygpt saved a checkpoint and exited 0. So
// when this process shares the terminal's foreground group with the processes that started it, it runs
// itself again as a job of its own under bash's job control, which hands that job the terminal: Ctrl-C
// then reaches babygpt alone, and babygpt's exit code is the one the caller sees.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

const BASH = "/bin/bash";
const OWN_JOB = "BABYGPT_OWN_JOB";

/** This process's group, and the terminal's foreground group (Linux, from /proc). */
function groups() {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    // after "pid (comm) ": state ppid pgrp session tty_nr tpgid
    const [, , pgrp, , , tpgid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
    return { pgrp, tpgid };
  } catch {
    return undefined;
  }
}

/**
 * True when this process is in the terminal's foreground group but does not lead it, and stderr is that
 * terminal (bash's job control works through it; with stderr redirected it would only warn).
 */
function sharesForegroundGroup() {
  if (process.platform !== "linux" || process.env[OWN_JOB] || !process.stderr.isTTY) return false;
  const g = groups();
  return g !== undefined && g.tpgid > 0 && g.pgrp === g.tpgid && g.pgrp !== process.pid;
}

/** The pids of a process's children (the job bash started). */
function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

if (sharesForegroundGroup() && existsSync(BASH)) {
  // The job runs until it ends. Stopped (Ctrl-Z), it stops the caller's group too, so the caller's shell
  // sees one stopped job, and then itself; the SIGCONT of `fg` or `bg` reaches this process, which passes
  // it on to bash, which resumes the job in the foreground or the background, as the terminal now says.
  const script = [
    // bash's own job notices ("Stopped") go nowhere; the job keeps the real stderr
    'exec 3>&2 2>/dev/null; "$@" 2>&3 3>&-; s=$?',
    "while jobs %% >/dev/null 2>&1; do",
    '  kill -TSTP -- -"$BABYGPT_CALLER_GROUP"; kill -STOP $$',
    "  read -r _ _ _ _ _ _ _ tpgid _ < /proc/$$/stat",
    '  if [ "$tpgid" = "$BABYGPT_CALLER_GROUP" ]; then fg %% >/dev/null; else bg %% >/dev/null; wait %%; fi; s=$?',
    "done",
    "exit $s",
  ].join("\n");
  const self = fileURLToPath(import.meta.url);
  const job = spawn(BASH, ["-m", "-c", script, "babygpt", process.execPath, ...process.execArgv, self, ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, [OWN_JOB]: "1", BABYGPT_CALLER_GROUP: String(groups().pgrp) },
  });
  process.on("SIGCONT", () => job.kill("SIGCONT"));
  // Signals sent to this process by name (kill, npm passing on its own) go on to babygpt; the terminal's
  // own no longer come here. SIGHUP is left out: a hangup reaches babygpt's group from the terminal.
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => {
      const targets = childrenOf(job.pid);
      if (targets.length === 0) job.kill(signal);
      for (const pid of targets) process.kill(pid, signal);
    });
  }
  job.on("exit", (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../runtime/cli/main.ts");
}

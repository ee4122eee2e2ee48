// Stopping a long job cleanly, however it is asked to: Ctrl-C (SIGINT), `kill` or a job scheduler
// (SIGTERM), a closed terminal or ssh session (SIGHUP). The first asks the job to stop after the current
// step (or evaluation batch) and save a checkpoint; a second one exits at once, with the shell's code for
// that signal (the checkpoint protocol keeps the last checkpoint whole).

export const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

const EXIT_CODE: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

const WHAT: Record<StopSignal, string> = { SIGINT: "Ctrl-C", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP (the terminal closed)" };

export interface StopSignals {
  /** True once a stop signal has arrived. */
  requested(): boolean;
  /** Puts the default handling back (the job is over). */
  dispose(): void;
}

/** `onFirst` hears the first signal, in words ("Ctrl-C"), to say what happens next. */
export function onStopSignals(onFirst: (what: string) => void): StopSignals {
  let first: StopSignal | undefined;
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = (): void => {
      if (first !== undefined) process.exit(EXIT_CODE[signal]);
      first = signal;
      onFirst(WHAT[signal]);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return {
    requested: () => first !== undefined,
    dispose() {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    },
  };
}

// Progress for long work: a bar redrawn in place on a terminal, plain periodic lines elsewhere (CI logs,
// pipes), so a log file is readable and a terminal is not flooded.

export interface Progress {
  update(done: number, status?: string): void;
  log(line: string): void;
  done(status?: string): void;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export function progress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr, quiet = false): Progress {
  const tty = stream.isTTY === true && !quiet;
  const started = performance.now();
  let lastPlain = 0;
  let startDone: number | undefined;
  const render = (done: number, status: string): string => {
    const elapsed = (performance.now() - started) / 1000;
    const rate = (done - (startDone ?? done)) / Math.max(elapsed, 1e-9);
    const eta = done >= total ? 0 : rate > 0 ? (total - done) / rate : Infinity;
    const width = 24;
    const filled = Math.round((width * done) / Math.max(total, 1));
    const bar = "█".repeat(filled) + "░".repeat(width - filled);
    return `${label} ${bar} ${done}/${total} ${status} | ETA ${formatDuration(eta)}`;
  };
  return {
    update(done, status = "") {
      if (quiet) return;
      // The rate counts from the first update (a resumed run starts past 0), whether or not it was shown.
      startDone ??= done;
      if (tty) {
        stream.write(`\r\x1b[2K${render(done, status)}`);
      } else if (performance.now() - lastPlain > 10_000 || done === total) {
        lastPlain = performance.now();
        stream.write(`${render(done, status)}\n`);
      }
    },
    log(line) {
      if (quiet) return;
      stream.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
    },
    done(status = "") {
      if (quiet) return;
      if (tty) stream.write(`\r\x1b[2K`);
      if (status) stream.write(`${status}\n`);
    },
  };
}

// Progress for long work: a bar redrawn in place on a terminal, plain periodic lines elsewhere (CI logs,
// pipes), so a log file is readable and a terminal is not flooded. The bar fits the terminal's width:
// a line one column too wide wraps, and every redraw then leaves a line behind.

export interface Progress {
  update(done: number, status?: string): void;
  log(line: string): void;
  done(status?: string): void;
}

export interface ProgressOptions {
  /** In a log (not a terminal), write a line when the work completes (default true). */
  readonly finalLine?: boolean;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** The widest bar, and the narrowest worth drawing. */
const BAR = { max: 24, min: 5 } as const;
/** A line to a log is written at most this often. */
const PLAIN_EVERY_MS = 10_000;
/** A terminal's bar is redrawn at most this often (a step can take microseconds; a redraw costs more). */
const REDRAW_EVERY_MS = 100;

/**
 * `label bar done/total status | ETA`, at most `columns - 1` characters (the last column is left free:
 * writing into it makes some terminals wrap). The bar shrinks first, then goes, then the line is cut.
 */
export function renderProgress(label: string, done: number, total: number, status: string, eta: string, columns = Infinity): string {
  const filled = (width: number): string => {
    const n = Math.round((width * Math.min(done, total)) / Math.max(total, 1));
    return "█".repeat(n) + "░".repeat(width - n);
  };
  const text = (bar: string): string => `${label}${bar ? ` ${bar}` : ""} ${done}/${total}${status ? ` ${status}` : ""} | ETA ${eta}`;
  const room = columns - 1;
  const bare = text("").length;
  const width = Math.min(BAR.max, room - bare - 1);
  if (width >= BAR.min) return text(filled(width));
  const line = text("");
  return line.length <= room ? line : `${line.slice(0, Math.max(0, room - 1))}…`;
}

export function progress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr, quiet = false, options: ProgressOptions = {}): Progress {
  const tty = stream.isTTY === true && !quiet;
  const started = performance.now();
  // In a log, the first line comes after PLAIN_EVERY_MS, like every later one: short work writes none but the last.
  let lastPlain = started;
  let lastDraw = -Infinity;
  let startDone: number | undefined;
  const render = (done: number, status: string): string => {
    const elapsed = (performance.now() - started) / 1000;
    const rate = (done - (startDone ?? done)) / Math.max(elapsed, 1e-9);
    const eta = done >= total ? 0 : rate > 0 ? (total - done) / rate : Infinity;
    return renderProgress(label, done, total, status, formatDuration(eta), tty ? (stream.columns ?? 80) : Infinity);
  };
  return {
    update(done, status = "") {
      if (quiet) return;
      // The rate counts from the first update (a resumed run starts past 0), whether or not it was shown.
      startDone ??= done;
      if (tty) {
        const now = performance.now();
        if (now - lastDraw < REDRAW_EVERY_MS && done !== total) return;
        lastDraw = now;
        stream.write(`\r\x1b[2K${render(done, status)}`);
      } else if (performance.now() - lastPlain > PLAIN_EVERY_MS || (done === total && options.finalLine !== false)) {
        lastPlain = performance.now();
        stream.write(`${render(done, status)}\n`);
      }
    },
    log(line) {
      stream.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
    },
    done(status = "") {
      if (tty) stream.write(`\r\x1b[2K`);
      if (status) stream.write(`${status}\n`);
    },
  };
}

// What a training shows on stderr, shared by train, demo and ladder: log lines (always, --quiet too), a
// progress bar of the steps, and, while a loss estimate or the encoding of a large corpus runs, a bar of
// that work, so a long pause is never silent.
import type { Reporter } from "../train/trainer.js";
import { progress, type Progress } from "./progress.js";

export interface TrainReporterOptions {
  /** The bar's label ("train", or the ladder step's name). */
  readonly label?: string;
  /** Put before every log line (the ladder names its step). */
  readonly prefix?: string;
  /** No progress bars; log lines stay. */
  readonly quiet?: boolean;
}

export function trainReporter(options: TrainReporterOptions = {}): Reporter {
  const stream = process.stderr;
  const label = options.label ?? "train";
  const quiet = options.quiet ?? false;
  let bar: Progress | undefined;
  let side: { what: string; bar: Progress } | undefined;
  /** The bar of work beside the steps (an evaluation, tokenizing), created when it starts. */
  const sideBar = (what: string, total: number): Progress => {
    if (side?.what !== what) side = { what, bar: progress(what, total, stream, quiet, { finalLine: false }) };
    return side.bar;
  };
  const endSide = (): void => {
    side?.bar.done();
    side = undefined;
  };
  const log = (line: string): void => {
    endSide();
    const text = `${options.prefix ?? ""}${line}`;
    if (bar) bar.log(text);
    else stream.write(`${text}\n`);
  };
  return {
    log,
    step(step, max, loss, tokensPerSec) {
      endSide();
      bar ??= progress(label, max, stream, quiet);
      bar.update(step, `loss ${loss.toFixed(4)} | ${Math.round(tokensPerSec).toLocaleString("en-US")} tok/s`);
    },
    done() {
      endSide();
      bar?.done();
    },
    evaluating(step, done, total) {
      sideBar(`eval@${step}`, total).update(done, "batches");
      if (done === total) endSide();
    },
    tokenizing(done, total, status) {
      sideBar("tokenize", total).update(done, status ?? "characters");
      if (done === total) endSide();
    },
  };
}

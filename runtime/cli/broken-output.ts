// A closed stdout or stderr (`babygpt … | head`, a terminal that went away, a log pipe that died) is not
// an error of the work. Node reports it as an EPIPE (or EIO) 'error' event, which unhandled would end the
// process with exit 1; here the stream goes quiet instead. A command whose output is the point (sample)
// ends at once with exit 0, the reader's choice; a training keeps going and saves its checkpoints.

const BROKEN = new Set(["EPIPE", "EIO", "ECONNRESET", "ERR_STREAM_DESTROYED"]);

let keepGoing = false;

/** Called by commands whose work matters more than their output (train, demo, ladder). */
export function keepGoingWithoutOutput(): void {
  keepGoing = true;
}

function silence(stream: NodeJS.WriteStream): void {
  // Every later write is dropped: console.*, progress bars and direct writes alike.
  stream.write = ((_chunk: unknown, encoding?: unknown, callback?: unknown) => {
    const done = typeof encoding === "function" ? encoding : callback;
    if (typeof done === "function") process.nextTick(done as () => void);
    return true;
  }) as typeof stream.write;
}

export function guardOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (!BROKEN.has(e.code ?? "")) throw e;
      silence(stream);
      if (stream === process.stdout && !keepGoing) process.exit(0);
    });
  }
}

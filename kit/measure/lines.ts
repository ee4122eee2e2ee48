// How a part of the kit talks to the kit's driver (kit/measure/run.ts): one JSON object per line on
// stdout. Whatever stops a part (a backend that does not load, an exception) becomes one "error" line
// with the first line of its message, so the driver can say why in one line; stderr is for people.
export type PartRecord = Record<string, unknown> & { readonly type: string };

export function emit(record: PartRecord): void {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

/** The first line of an error's message. */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!.trim();
}

/** Reports an uncaught error or rejection as an "error" line and exits 1. */
export function reportFailures(): void {
  const fail = (e: unknown): never => {
    emit({ type: "error", reason: firstLine(e) });
    process.exit(1);
  };
  process.on("uncaughtException", fail);
  process.on("unhandledRejection", fail);
}

// The little of Node's process the shared code reads (the compiler's default working directory, env),
// and setImmediate.
const g = globalThis as { process?: unknown };
g.process ??= { env: {}, cwd: () => "/project", versions: {}, platform: "browser", argv: [] };
export {};
// The runtime's long loops yield with setImmediate (the loss estimates do, so a stop is heard).
const timers = globalThis as { setImmediate?: (f: (...a: unknown[]) => void, ...a: unknown[]) => unknown };
timers.setImmediate ??= (f, ...a) => setTimeout(f, 0, ...a);

// The little of Node's process the shared code reads (the compiler's default working directory, env).
const g = globalThis as { process?: unknown };
g.process ??= { env: {}, cwd: () => "/project", versions: {}, platform: "browser", argv: [] };
export {};

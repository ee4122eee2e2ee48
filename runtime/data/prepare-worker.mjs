// The prepare workers' entry: a worker thread does not inherit the main thread's TypeScript loader, so it
// registers tsx itself before loading the worker's code.
const { register } = await import("tsx/esm/api");
register();
await import("./prepare-worker.ts");

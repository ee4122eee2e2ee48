// What Node modules the browser never calls resolve to (os, inspector, perf_hooks, … inside typescript
// and ts-morph's Node file system, which the in-memory project does not use).
export default {};
export const tmpdir = (): string => "/tmp";
export const homedir = (): string => "/";
export const EOL = "\n";
export const platform = (): string => "browser";
export const cpus = (): unknown[] => [];
export const totalmem = (): number => 0;

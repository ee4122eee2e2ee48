// node:fs for the compiler in the browser: reads from the bundled files (vfs.ts); nothing is written.
import { findVirtual } from "./vfs.js";

const pathOf = (p: string | URL): string => (typeof p === "string" ? p : p.pathname);

function missing(path: string): Error {
  return Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: "ENOENT" });
}

export function existsSync(p: string | URL): boolean {
  return findVirtual(pathOf(p)) !== undefined;
}

export function readFileSync(p: string | URL): string {
  const text = findVirtual(pathOf(p));
  if (text === undefined) throw missing(pathOf(p));
  return text;
}

export function statSync(p: string | URL): { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; size: number } {
  const text = findVirtual(pathOf(p));
  if (text === undefined) throw missing(pathOf(p));
  return { isFile: () => true, isDirectory: () => false, isSymbolicLink: () => false, size: new TextEncoder().encode(text).length };
}

/** The bundled files hold no links: as statSync. */
export const lstatSync = statSync;

function unsupported(): never {
  throw new Error("the playground has no file system to write to");
}
export const writeFileSync = unsupported;
export const mkdirSync = unsupported;
export const appendFileSync = unsupported;
export const openSync = unsupported;
export const writeSync = unsupported;
export const fsyncSync = unsupported;
export const closeSync = unsupported;
export const renameSync = unsupported;
export const rmSync = unsupported;
export const readdirSync = (): string[] => [];
export const realpathSync = (p: string): string => p;
export const promises = {};
export default { existsSync, readFileSync, statSync, lstatSync, writeFileSync, mkdirSync, readdirSync, realpathSync, promises };

// The playground: `npm run playground` serves it, `npm run playground:build` writes a static site to
// playground/dist (relative URLs, so any static host or folder serves it). The compiler runs in the page:
// Node's fs, crypto, url and path are replaced by the shims in src/shims (the bundled specs, schema and
// templates are its file system).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const shim = (name: string): string => fileURLToPath(new URL(`./src/shims/${name}.ts`, import.meta.url));
const pathBrowserify = fileURLToPath(new URL("../node_modules/path-browserify/index.js", import.meta.url));

const aliases: Record<string, string> = {
  "node:fs/promises": shim("empty"),
  "node:fs": shim("fs"),
  fs: shim("fs"),
  "node:crypto": shim("crypto"),
  crypto: shim("crypto"),
  "node:url": shim("url"),
  "node:path": pathBrowserify,
  path: pathBrowserify,
  "node:os": shim("empty"),
  os: shim("empty"),
  inspector: shim("empty"),
  perf_hooks: shim("empty"),
  "source-map-support": shim("empty"),
  tinyglobby: shim("empty"),
};

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  resolve: { alias: Object.entries(aliases).map(([find, replacement]) => ({ find: new RegExp(`^${find}$`), replacement })) },
  server: { fs: { allow: [fileURLToPath(new URL("..", import.meta.url))] } },
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 8000, target: "es2022" },
});

// The kit's JavaScript: the CLI and the kit's measurements bundled by esbuild into <kit>/app/, ES modules
// split into shared chunks (one copy of tfjs and of the runtime for every entry; a chunk loads only when
// an entry imports it, so a command that never compiles never loads the TypeScript compiler).
//
// The kit keeps the repository's layout for what the code reads from disk at run time (specs/, schema/,
// compiler/serialize/*/*.hbs, runtime/torch/*.py, generated/torch/, runtime/webgpu/probe.mjs), so
// every `new URL("…", import.meta.url)` of a source file is rewritten to the URL that file would have in
// the kit: <kit>/<its path in the repository>. PROJECT_ROOT (runtime/paths.ts) is then the kit's folder.
//
// Not bundled: Dawn (the `webgpu` package: a native addon that index.js loads by its own path, so the kit
// ships the package's index.js with the linux-x64 dawn.node beside it in <kit>/node_modules/webgpu), and
// the backends the kit leaves out (tfjs-node, wasm), which then say they are not installed as they do in a
// checkout without them. seedrandom is bundled (tfjs-core's dropout draws from it) and also shipped in
// <kit>/node_modules, where the WGSL attention kernel requires it by path (createRequire).
import { build, type Metafile, type Plugin } from "esbuild";
import { readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

/** Entry points: the file each becomes in <kit>/app/ and its source in the repository. */
export const ENTRIES = {
  babygpt: "runtime/cli/main.ts",
  "gpu-kit": "kit/measure/run.ts",
  adapter: "kit/measure/adapter.ts",
  "webgpu-steps": "kit/measure/webgpu-steps.ts",
  "webgpu-kernels": "bench/webgpu-kernels.ts",
  "torch-run": "kit/measure/torch-run.ts",
} as const;

/** Packages loaded at run time from <kit>/node_modules, or not at all. */
export const EXTERNAL = ["webgpu", "@tensorflow/tfjs-node", "@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-backend-wasm"] as const;

/** Modules the kit replaces with its own: the model source runs the prebuilt models (kit/model-source.ts). */
const SUBSTITUTES: Readonly<Record<string, string>> = { "runtime/model-source.ts": "kit/model-source.ts" };

const KIT_ROOT = "__babygptKitRoot";

// Every chunk: `require`, `__filename` and `__dirname` for the CommonJS packages inside (esbuild's ESM
// output has none of them; the TypeScript compiler reads __filename), and the kit's root, one folder
// above app/.
const BANNER = [
  'import { createRequire as __babygptCreateRequire } from "node:module";',
  'import { fileURLToPath as __babygptFileURLToPath } from "node:url";',
  "const require = __babygptCreateRequire(import.meta.url);",
  "const __filename = __babygptFileURLToPath(import.meta.url);",
  'const __dirname = __babygptFileURLToPath(new URL(".", import.meta.url));',
  `const ${KIT_ROOT} = new URL("..", import.meta.url);`,
].join("\n");

const posix = (p: string): string => p.split(sep).join("/");

/** import.meta.url in the project's own sources → the URL of the same path under the kit's root. */
function kitPaths(root: string): Plugin {
  return {
    name: "babygpt-kit-paths",
    setup(b) {
      b.onResolve({ filter: /model-source\.js$/ }, (args) => {
        const target = posix(relative(root, join(args.resolveDir, args.path.replace(/\.js$/, ".ts"))));
        const substitute = SUBSTITUTES[target];
        // The kit's own model source imports the original's types and helpers.
        if (!substitute || posix(relative(root, args.importer)) === substitute) return undefined;
        return { path: join(root, substitute) };
      });
      b.onLoad({ filter: /\.(ts|mts|js|mjs)$/ }, (args) => {
        const rel = posix(relative(root, args.path));
        if (rel.startsWith("node_modules/") || rel.startsWith("..")) return undefined;
        const text = readFileSync(args.path, "utf8");
        if (!text.includes("import.meta.url")) return undefined;
        return {
          contents: text.replaceAll("import.meta.url", `new URL(${JSON.stringify(rel)}, ${KIT_ROOT}).href`),
          loader: args.path.endsWith("ts") ? "ts" : "js",
        };
      });
    },
  };
}

/** Bundles the entries into `outDir` (<kit>/app); returns esbuild's metafile (what went into each output). */
export async function bundleKit(root: string, outDir: string): Promise<Metafile> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, src]) => [name, join(root, src)])),
    outdir: outDir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    // The ES module builds of the packages that have one (tfjs): a CommonJS build imported from ESM
    // would give its exports as `default` alone, Node's rule, which esbuild follows here.
    mainFields: ["module", "main"],
    target: "node20",
    minify: true,
    // Names stay readable in a stack trace from a GPU machine.
    keepNames: true,
    sourcemap: false,
    legalComments: "none",
    external: [...EXTERNAL],
    banner: { js: BANNER },
    plugins: [kitPaths(root)],
    metafile: true,
    logLevel: "error",
  });
  return result.metafile;
}

/** The input files whose code ends up in the outputs an entry loads before it runs (its static imports). */
export function staticInputs(meta: Metafile, entry: keyof typeof ENTRIES, outDir: string): Set<string> {
  const outputs = meta.outputs;
  const start = Object.keys(outputs).find((o) => outputs[o]!.entryPoint !== undefined && posix(outputs[o]!.entryPoint!) === ENTRIES[entry]);
  if (!start) throw new Error(`no output for the entry ${entry} in ${outDir}`);
  const seen = new Set<string>();
  const inputs = new Set<string>();
  const visit = (o: string): void => {
    if (seen.has(o)) return;
    seen.add(o);
    for (const i of Object.keys(outputs[o]!.inputs)) inputs.add(posix(i));
    for (const imp of outputs[o]!.imports) if (imp.kind === "import-statement" && !imp.external) visit(imp.path);
  };
  visit(start);
  return inputs;
}

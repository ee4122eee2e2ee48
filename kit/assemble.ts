// What goes into the kit's folder besides the bundle: the Node binary, Dawn, the Vulkan loader, a
// libstdc++ for hosts whose own is older than dawn.node's, the files the code reads at run time (in the
// repository's layout: see kit/bundle.ts), the torch engine's Python, the corpus, the entry scripts and
// kit.json (what the kit is made of). Each missing piece is one line naming it and how to get it.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { UserError } from "../runtime/errors.js";
import type { KitInfo } from "./results.js";

/** Folders and files copied as they are, relative to the repository's root. */
const TREES = [
  "specs",
  "schema/spec.schema.json",
  "compiler/serialize/typescript/header.hbs",
  "compiler/serialize/python/model.py.hbs",
  "compiler/serialize/python/class.py.hbs",
  "runtime/ladder/templates",
  "bench/templates",
  "bench/sampling.json",
  "runtime/webgpu/probe.mjs",
  "generated",
] as const;

/** The torch engine's Python (runtime/torch/*.py), which torchrun runs from the kit. */
const PYTHON_DIR = "runtime/torch";

/** Where Debian and its kin keep the shared libraries the kit takes from this machine. */
const LIB_DIRS = ["/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib"];

function findLib(name: string, fix: string): string {
  const found = LIB_DIRS.map((d) => join(d, name)).find((p) => existsSync(p));
  if (!found) throw new UserError(`the kit needs ${name} from this machine and none is in ${LIB_DIRS.join(", ")}: ${fix}`);
  return found;
}

const copy = (from: string, to: string): void => {
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to, { recursive: true, dereference: true });
};

/** The Node binary: this one, Node 20 only; stripped of its debug symbols where `strip` exists (a third smaller). */
function copyNode(kit: string): { version: string; stripped: boolean } {
  const version = process.version;
  if (!version.startsWith("v20.")) throw new UserError(`the kit carries the Node that builds it, which must be Node 20 (this is ${version}); run npm run gpu:kit with Node 20`);
  const to = join(kit, "node");
  copyFileSync(process.execPath, to);
  chmodSync(to, 0o755);
  const stripped = spawnSync("strip", ["--strip-all", to]).status === 0;
  // A strip that ran must leave a Node that starts.
  if (stripped) execFileSync(to, ["--version"]);
  return { version, stripped };
}

/** The webgpu package's loader and its linux-x64 dawn.node, in <kit>/node_modules/webgpu. */
function copyDawn(root: string, kit: string): string {
  const pkg = join(root, "node_modules/webgpu");
  const dawn = join(pkg, "dist/linux-x64/dawn.node");
  if (!existsSync(dawn)) throw new UserError(`${dawn} is missing: the kit needs the webgpu package's prebuilt Dawn (npm ci installs it, an optional dependency)`);
  const to = join(kit, "node_modules/webgpu");
  for (const f of ["index.js", "package.json", "LICENSE.md", "dist/linux-x64/dawn.node"]) if (existsSync(join(pkg, f))) copy(join(pkg, f), join(to, f));
  return (JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as { version: string }).version;
}

/** seedrandom, which the WGSL attention kernel requires by path, and tfjs-core's package.json (its version for the run records). */
function copyPackages(root: string, kit: string): string {
  const seed = join(root, "node_modules/seedrandom");
  for (const f of ["package.json", "index.js", "seedrandom.js", "lib", "README.md"]) if (existsSync(join(seed, f))) copy(join(seed, f), join(kit, "node_modules/seedrandom", f));
  const core = join(root, "node_modules/@tensorflow/tfjs-core/package.json");
  copy(core, join(kit, "node_modules/@tensorflow/tfjs-core/package.json"));
  return (JSON.parse(readFileSync(core, "utf8")) as { version: string }).version;
}

/** The newest glibc and libstdc++ symbol versions a binary asks for (the version names in its dynamic section). */
export function libraryNeeds(file: string): { glibc: string; glibcxx?: string } {
  const text = readFileSync(file).toString("latin1");
  const newest = (re: RegExp): number[] | undefined =>
    [...text.matchAll(re)].map((m) => m.slice(1).map(Number)).sort((a, b) => a.reduce((d, x, i) => d || x - b[i]!, 0)).at(-1);
  const glibc = newest(/GLIBC_(\d+)\.(\d+)(?![.\d])/g);
  const glibcxx = newest(/GLIBCXX_3\.4\.(\d+)/g);
  if (!glibc) throw new UserError(`${file} names no glibc version: is it a Linux binary?`);
  return glibcxx ? { glibc: glibc.join("."), glibcxx: `3.4.${glibcxx[0]}` } : { glibc: glibc.join(".") };
}

/**
 * <kit>/needs.sh, which host.sh reads: what Node, dawn.node and the kit's libstdc++ ask of the host's
 * glibc and libstdc++, read from the binaries themselves.
 */
function writeNeeds(kit: string): void {
  const node = libraryNeeds(join(kit, "node"));
  const dawn = libraryNeeds(join(kit, "node_modules/webgpu/dist/linux-x64/dawn.node"));
  const compat = libraryNeeds(join(kit, "lib/compat/libstdc++.so.6"));
  const lines = [
    "# What the kit's binaries ask of this machine's glibc and libstdc++ (read from them when the kit was built; host.sh reads this).",
    `KIT_NODE_GLIBC=${node.glibc}`,
    `KIT_DAWN_GLIBC=${dawn.glibc}`,
    `KIT_DAWN_GLIBCXX=${dawn.glibcxx ?? "3.4.0"}`,
    `KIT_COMPAT_GLIBC=${compat.glibc}`,
  ];
  writeFileSync(join(kit, "needs.sh"), `${lines.join("\n")}\n`);
}

/** Debian's Vulkan loader (libvulkan1) as <kit>/lib/libvulkan.so.1, and a libstdc++ for old hosts. */
function copyLibraries(kit: string): string {
  const loader = findLib("libvulkan.so.1", "install Debian's libvulkan1 (apt-get install libvulkan1)");
  copyFileSync(loader, join(kit, "lib", "libvulkan.so.1"));
  const stdcxx = findLib("libstdc++.so.6", "install libstdc++6");
  const dawnNeeds = libraryNeeds(join(kit, "node_modules/webgpu/dist/linux-x64/dawn.node")).glibcxx;
  if (dawnNeeds && !readFileSync(stdcxx).includes(`GLIBCXX_${dawnNeeds}`)) throw new UserError(`${stdcxx} lacks GLIBCXX_${dawnNeeds}, which dawn.node needs: build the kit on a newer system (Debian 12 or later)`);
  mkdirSync(join(kit, "lib", "compat"), { recursive: true });
  copyFileSync(stdcxx, join(kit, "lib", "compat", "libstdc++.so.6"));
  // libvulkan.so.1 → libvulkan.so.1.3.239: its version is in the real file's name.
  return `libvulkan ${basename(realpathSync(loader)).replace(/^libvulkan\.so\.?/, "") || "(version unknown)"} from ${loader}`;
}

function gitCommit(root: string): string {
  const rev = spawnSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: root, encoding: "utf8" });
  if (rev.status !== 0) return "unknown (not a git checkout)";
  const dirty = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, encoding: "utf8" }).stdout.trim() !== "";
  return `${rev.stdout.trim()}${dirty ? "+changes" : ""}`;
}

export interface Assembled {
  readonly info: KitInfo;
  readonly corpus: string | undefined;
  readonly nodeStripped: boolean;
}

/** Fills the kit's folder (the bundle is already in <kit>/app). */
export function assembleKit(root: string, kit: string, scripts: string): Assembled {
  for (const t of TREES) copy(join(root, t), join(kit, t));
  for (const f of readdirSync(join(root, PYTHON_DIR)).filter((f) => f.endsWith(".py"))) copy(join(root, PYTHON_DIR, f), join(kit, PYTHON_DIR, f));
  mkdirSync(join(kit, "lib"), { recursive: true });
  const node = copyNode(kit);
  const dawn = copyDawn(root, kit);
  const tfjs = copyPackages(root, kit);
  const vulkanLoader = copyLibraries(kit);
  writeNeeds(kit);
  const dataDir = process.env["BABYGPT_DATA_DIR"];
  const corpus = dataDir && existsSync(join(dataDir, "tinyshakespeare.txt")) ? join(dataDir, "tinyshakespeare.txt") : undefined;
  if (corpus) copy(corpus, join(kit, "data", "tinyshakespeare.txt"));
  for (const f of ["run.sh", "babygpt", "host.sh"]) {
    copyFileSync(join(scripts, f), join(kit, f));
    chmodSync(join(kit, f), f === "host.sh" ? 0o644 : 0o755);
  }
  const licence = "/usr/share/doc/nodejs/LICENSE";
  if (existsSync(licence)) copy(licence, join(kit, "licenses", "node-LICENSE"));
  const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
  writeFileSync(join(kit, "package.json"), `${JSON.stringify({ name: "babygpt-gpu-kit", version, private: true, type: "module" }, null, 2)}\n`);
  const info: KitInfo = {
    babygpt: version,
    commit: gitCommit(root),
    built: new Date().toISOString(),
    node: node.version,
    tfjs,
    dawn: `webgpu ${dawn} (dawn.node for linux-x64)`,
    vulkanLoader,
  };
  writeFileSync(join(kit, "kit.json"), `${JSON.stringify(info, null, 2)}\n`);
  return { info, corpus, nodeStripped: node.stripped };
}

#!/usr/bin/env node
// Builds the native tfjs backend's addon (runtime/native/src) into build/babygpt_native.node with the
// system C++ compiler and OpenBLAS. `npm ci` runs this as the package's install script. The addon is
// optional: where the compiler or OpenBLAS is missing, or the build fails, this prints one line saying
// why and exits 0, and the backend selection moves on to the other backends.
//
//   node runtime/native/build.mjs [--force] [--verbose]
//
// Environment: CXX picks the compiler (default g++). BABYGPT_NATIVE=0 skips the build.
//
// Instruction sets: kernels.cc is compiled for x86-64-v3 (AVX2, FMA; every x86 server CPU since 2013),
// not -march=native, so that a build cache or a container image moved to another machine still runs.
// addon.cc, which checks the CPU when the module loads, is compiled for the baseline.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { arch, platform } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const srcDir = join(here, "src");
const outDir = join(root, "build");
const output = join(outDir, "babygpt_native.node");
const stamp = join(outDir, "babygpt_native.stamp");
const sources = ["kernels.cc", "exact.cc", "threads.cc", "addon.cc", "kernels.h", "parallel.h"].map((f) => join(srcDir, f));
const force = process.argv.includes("--force");
const verbose = process.argv.includes("--verbose");

function done(message) {
  console.log(`babygpt native backend: ${message}`);
  process.exit(0);
}

/** A failed (re)build: an addon left from older sources must not be loaded in its place. */
function failed(message) {
  rmSync(output, { force: true });
  rmSync(stamp, { force: true });
  done(message);
}

function run(cmd, args) {
  if (verbose) console.log([cmd, ...args].join(" "));
  return spawnSync(cmd, args, { encoding: "utf8" });
}

/** The first line of a compiler's complaint that says something (an error, else the first line). */
function firstError(text) {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  return (lines.find((l) => /error|cannot find|not found/i.test(l)) ?? lines[0] ?? "unknown error").slice(0, 240);
}

if (process.env.BABYGPT_NATIVE === "0") done("not built (BABYGPT_NATIVE=0)");
if (platform() === "win32") done("not built (Windows is not supported; the wasm backend is used instead)");

const cxx = process.env.CXX || "g++";
const probe = run(cxx, ["--version"]);
if (probe.error || probe.status !== 0) done(`not built (no C++ compiler: \`${cxx}\` not found; install g++)`);

let napiInclude;
try {
  const require = createRequire(import.meta.url);
  napiInclude = join(dirname(require.resolve("node-api-headers/package.json")), "include");
} catch {
  done("not built (the node-api-headers package is missing; run npm ci)");
}

// OpenBLAS: pkg-config knows Debian's alternatives layout; without it, the default paths.
let blasCflags = [];
let blasLibs = ["-lopenblas"];
const pc = run("pkg-config", ["--cflags", "--libs", "openblas"]);
if (!pc.error && pc.status === 0) {
  const flags = pc.stdout.trim().split(/\s+/).filter(Boolean);
  blasCflags = flags.filter((f) => f.startsWith("-I"));
  blasLibs = flags.filter((f) => !f.startsWith("-I"));
}

const x64 = arch() === "x64";
const common = ["-std=c++17", "-O3", "-fPIC", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"];
const kernelFlags = [
  ...common,
  // Lets GCC vectorize loops marked `omp simd` (reductions) without OpenMP's runtime, and math calls
  // such as sqrt without errno.
  "-fopenmp-simd",
  "-fno-math-errno",
  "-fno-trapping-math",
  ...(x64 ? ["-mavx2", "-mfma", "-mf16c", "-mbmi", "-mbmi2", "-mlzcnt", "-mmovbe"] : []),
  ...blasCflags,
];
const flagKey = JSON.stringify({ cxx, kernelFlags, blasLibs, version: probe.stdout.split("\n")[0], units: ["kernels", "exact:-ffp-contract=off", "threads:-pthread", "addon"] });

// Up to date: the addon is newer than every source and was built with the same flags.
if (!force && existsSync(output) && existsSync(stamp) && readFileSync(stamp, "utf8") === flagKey) {
  const built = statSync(output).mtimeMs;
  if (sources.every((s) => statSync(s).mtimeMs <= built)) done(`up to date (${output})`);
}

mkdirSync(outDir, { recursive: true });
const kernelsObj = join(outDir, "kernels.o");
const addonObj = join(outDir, "addon.o");
const tmpOut = `${output}.tmp`;

const exactObj = join(outDir, "exact.o");
const threadsObj = join(outDir, "threads.o");
const steps = [
  [cxx, [...kernelFlags, "-c", join(srcDir, "kernels.cc"), "-o", kernelsObj]],
  // exact.cc reproduces tfjs's float32 arithmetic step by step (the optimizers, dropout's random
  // numbers): no fused multiply-adds, which round differently.
  [cxx, [...kernelFlags, "-ffp-contract=off", "-c", join(srcDir, "exact.cc"), "-o", exactObj]],
  [cxx, [...common, "-pthread", "-c", join(srcDir, "threads.cc"), "-o", threadsObj]],
  [cxx, [...common, `-I${napiInclude}`, "-c", join(srcDir, "addon.cc"), "-o", addonObj]],
  [cxx, ["-shared", "-pthread", "-o", tmpOut, kernelsObj, exactObj, threadsObj, addonObj, ...blasLibs, "-lm"]],
];
for (const [cmd, args] of steps) {
  const r = run(cmd, args);
  if (verbose && r.stderr) process.stderr.write(r.stderr); // warnings
  if (r.status !== 0) {
    const text = `${r.stderr ?? ""}${r.stdout ?? ""}`;
    if (/cblas\.h|lopenblas|openblas/i.test(text)) {
      failed("not built (OpenBLAS not found; on Debian/Ubuntu: apt-get install libopenblas-dev)");
    }
    failed(`not built (${cmd} failed: ${firstError(text)})`);
  }
}

// Load it once in a child process, so that a module that cannot load here (a missing shared library,
// an old CPU) is reported now rather than at the first training run.
const loader = `const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(tmpOut)}); console.log(m.exports.info());`;
const check = spawnSync(process.execPath, ["-e", loader], { encoding: "utf8" });
if (check.status !== 0) failed(`not built (the addon does not load: ${firstError(check.stderr ?? "")})`);
renameSync(tmpOut, output);
writeFileSync(stamp, flagKey);
done(`built ${output} with ${check.stdout.trim()}`);

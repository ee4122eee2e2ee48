#!/usr/bin/env node
// Builds the native tfjs backend's addon (runtime/native/src) with the system C++ compiler. `npm ci`
// runs this as the package's install script. Two addons come out of one set of objects:
//
//   build/babygpt_native.node          the one the backend loads: OpenBLAS's sgemm where OpenBLAS is
//                                      found (Accelerate on macOS), else the built-in GEMM
//   build/babygpt_native_builtin.node  always the built-in GEMM (the tests run the native suite on both;
//                                      the benchmark compares them)
//
// Without OpenBLAS the backend is still built, on the built-in GEMM (gemm*.cc), and the log says so and
// how to get OpenBLAS's. Only a missing compiler (or a failing build) leaves no addon: then this prints
// one line saying why and exits 0, the reason is kept in build/babygpt_native.why for the run log, and
// the backend selection moves on to the other backends.
//
//   node runtime/native/build.mjs [--force] [--verbose]
//
// Environment:
//   BABYGPT_BLAS=auto|openblas|builtin|accelerate  what runs the matrix products of babygpt_native.node
//                           (auto: Accelerate on macOS, else OpenBLAS when found, else built-in; a named
//                           one that cannot be built is an error, not a fallback)
//   BABYGPT_NATIVE_ISA=auto|x86-64-v3|baseline      instruction set of the element-wise kernels (auto:
//                           x86-64-v3 where this CPU has AVX2 and FMA)
//   CXX                     the compiler (default g++); BABYGPT_NATIVE=0 skips the build
//
// Instruction sets: kernels.cc and exact.cc are compiled for x86-64-v3 (AVX2, FMA; every x86 server CPU
// since 2013) where the building CPU has it, not -march=native, so that a build cache or a container
// image moved to another machine still runs; addon.cc then refuses to load on a CPU without it. The
// built-in GEMM's AVX2 micro-kernel (gemm_avx2.cc) is always compiled on x86-64 and chosen at run time
// from the CPU's features, beside a portable one, and so are the decoder's AVX-512 panels
// (decode_avx512.cc) beside its AVX2 ones; everything else is compiled for the baseline.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { arch, platform } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const srcDir = join(here, "src");
const outDir = join(root, "build");
const primary = join(outDir, "babygpt_native.node");
const builtinOut = join(outDir, "babygpt_native_builtin.node");
const stamp = join(outDir, "babygpt_native.stamp");
const whyFile = join(outDir, "babygpt_native.why");
const force = process.argv.includes("--force");
const verbose = process.argv.includes("--verbose");

function say(message) {
  console.log(`babygpt native backend: ${message}`);
}

/** No addon: says why, keeps the reason (with its fix) for the run log, and exits 0 (1 when the BLAS
 * asked for by name cannot be built: that is an error of the command, not a missing optional part). */
function notBuilt(reason, fix, status = 0) {
  rmSync(primary, { force: true });
  rmSync(builtinOut, { force: true });
  rmSync(stamp, { force: true });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(whyFile, `${JSON.stringify({ reason, fix })}\n`);
  say(`not built (${reason}${fix ? `; ${fix}` : ""})`);
  process.exit(status);
}

function run(cmd, args) {
  if (verbose) console.log([cmd, ...args].join(" "));
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (verbose && r.stderr) process.stderr.write(r.stderr); // warnings
  return r;
}

/** The first line of a compiler's complaint that says something (an error, else the first line). */
function firstError(text) {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  return (lines.find((l) => /error|cannot find|not found/i.test(l)) ?? lines[0] ?? "unknown error").slice(0, 240);
}

const REBUILD = "npm run build:native";

if (process.env.BABYGPT_NATIVE === "0") {
  say("not built (BABYGPT_NATIVE=0)");
  process.exit(0);
}
if (platform() === "win32") notBuilt("Windows is not supported", "the wasm backend is used instead");

const blasChoice = (process.env.BABYGPT_BLAS || "auto").toLowerCase();
if (!["auto", "openblas", "builtin", "accelerate"].includes(blasChoice)) {
  console.error(`babygpt native backend: BABYGPT_BLAS=${process.env.BABYGPT_BLAS} is not one of auto, openblas, builtin, accelerate`);
  process.exit(1);
}
const isaChoice = (process.env.BABYGPT_NATIVE_ISA || "auto").toLowerCase();
if (!["auto", "x86-64-v3", "baseline"].includes(isaChoice)) {
  console.error(`babygpt native backend: BABYGPT_NATIVE_ISA=${process.env.BABYGPT_NATIVE_ISA} is not one of auto, x86-64-v3, baseline`);
  process.exit(1);
}

const cxx = process.env.CXX || "g++";
const probe = run(cxx, ["--version"]);
if (probe.error || probe.status !== 0) {
  notBuilt(`no C++ compiler (\`${cxx}\` not found)`, `install one and rebuild: apt-get install -y g++ && ${REBUILD}`);
}

let napiInclude;
try {
  const require = createRequire(import.meta.url);
  napiInclude = join(dirname(require.resolve("node-api-headers/package.json")), "include");
} catch {
  notBuilt("the node-api-headers package is missing", "run npm ci");
}

mkdirSync(outDir, { recursive: true });
const x64 = arch() === "x64";
const mac = platform() === "darwin";

/** Compiles and runs a tiny program; true when it exits 0. */
function probeProgram(name, code, flags = []) {
  const src = join(outDir, `${name}.cc`);
  const exe = join(outDir, name);
  writeFileSync(src, code);
  const c = spawnSync(cxx, ["-O0", ...flags, src, "-o", exe], { encoding: "utf8" });
  const ok = c.status === 0 && spawnSync(exe, [], { encoding: "utf8" }).status === 0;
  rmSync(src, { force: true });
  rmSync(exe, { force: true });
  return { ok, compiled: c.status === 0, stderr: c.stderr ?? "" };
}

// The element-wise kernels' instruction set: x86-64-v3 where the CPU building them has AVX2 and FMA.
let v3 = false;
if (x64) {
  if (isaChoice === "x86-64-v3") v3 = true;
  else if (isaChoice === "auto") {
    v3 = probeProgram("cpu-probe", 'int main() { __builtin_cpu_init(); return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 0 : 1; }\n').ok;
  }
}

// OpenBLAS: pkg-config knows Debian's alternatives layout; without it, the default paths. Found means a
// program including cblas.h links against it.
let blasCflags = [];
let blasLibs = ["-lopenblas"];
const pc = spawnSync("pkg-config", ["--cflags", "--libs", "openblas"], { encoding: "utf8" });
if (!pc.error && pc.status === 0) {
  const flags = pc.stdout.trim().split(/\s+/).filter(Boolean);
  blasCflags = flags.filter((f) => f.startsWith("-I"));
  blasLibs = flags.filter((f) => !f.startsWith("-I"));
}
let blas = blasChoice === "auto" ? (mac ? "accelerate" : "openblas") : blasChoice;
let whyBuiltin = blasChoice === "builtin" ? "BABYGPT_BLAS=builtin asked for it" : undefined;
if (blas === "openblas") {
  const found = probeProgram("openblas-probe", "#include <cblas.h>\nint main() { return 0; }\n", [...blasCflags, ...blasLibs]);
  if (!found.ok) {
    const what = /cblas\.h/.test(found.stderr) ? "cblas.h not found" : found.compiled ? "a program linked against it does not run" : /lopenblas/.test(found.stderr) ? "libopenblas not found" : firstError(found.stderr);
    if (blasChoice === "openblas") notBuilt(`BABYGPT_BLAS=openblas, but OpenBLAS is not usable here (${what})`, `apt-get install -y libopenblas-dev && ${REBUILD}`, 1);
    blas = "builtin";
    whyBuiltin = `OpenBLAS was not found (${what})`;
  }
}

const common = ["-std=c++17", "-O3", "-fPIC", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"];
// Lets GCC vectorize loops marked `omp simd` (reductions) without OpenMP's runtime, and math calls such
// as sqrt without errno.
const loops = ["-fopenmp-simd", "-fno-math-errno", "-fno-trapping-math"];
const v3Flags = v3 ? ["-mavx2", "-mfma", "-mf16c", "-mbmi", "-mbmi2", "-mlzcnt", "-mmovbe"] : [];
const kernelFlags = [...common, ...loops, ...v3Flags];
const obj = (name) => join(outDir, `${name}.o`);
// Each unit: source, flags. The first group is shared by both addons.
const units = {
  kernels: ["kernels.cc", kernelFlags],
  decode: ["decode.cc", [...kernelFlags, ...(x64 ? ["-DBK_HAVE_AVX512_DECODE"] : [])]],
  // The decoder's AVX-512 panels, chosen at run time where the CPU has AVX-512F (decode_panels.h).
  ...(x64 ? { decode_avx512: ["decode_avx512.cc", [...common, ...loops, "-mavx512f", "-mavx2", "-mfma"]] } : {}),
  // exact.cc reproduces tfjs's float32 arithmetic step by step (the optimizers, dropout's random
  // numbers): no fused multiply-adds, which round differently.
  exact: ["exact.cc", [...kernelFlags, "-ffp-contract=off"]],
  threads: ["threads.cc", [...common, "-pthread"]],
  addon: ["addon.cc", [...common, `-I${napiInclude}`, ...(v3 ? ["-DBK_KERNELS_V3"] : [])]],
  gemm: ["gemm.cc", [...common, ...(x64 ? ["-DBK_HAVE_AVX2_KERNEL"] : [])]],
  gemm_portable: ["gemm_portable.cc", [...common, ...loops]],
  ...(x64 ? { gemm_avx2: ["gemm_avx2.cc", [...common, ...loops, "-mavx2", "-mfma"]] } : {}),
  blas_builtin: ["blas_builtin.cc", common],
  ...(blas === "openblas" ? { blas_openblas: ["blas_cblas.cc", [...common, "-DBK_BLAS_OPENBLAS", ...blasCflags]] } : {}),
  ...(blas === "accelerate" ? { blas_accelerate: ["blas_cblas.cc", [...common, "-DBK_BLAS_ACCELERATE"]] } : {}),
};
const shared = Object.keys(units).filter((u) => !u.startsWith("blas_")).map(obj);
const headers = ["kernels.h", "parallel.h", "gemm.h", "gemm_driver.h", "decode.h", "decode_panels.h"];
const sources = [...new Set([...Object.values(units).map(([f]) => f), ...headers])].map((f) => join(srcDir, f));
const libsFor = { openblas: blasLibs, accelerate: ["-framework", "Accelerate"], builtin: [] };
const flagKey = JSON.stringify({ cxx, version: probe.stdout.split("\n")[0], units, blas, whyBuiltin, libs: libsFor[blas] });

// Up to date: both addons are newer than every source and were built with the same flags and BLAS.
if (!force && existsSync(primary) && existsSync(builtinOut) && existsSync(stamp) && readFileSync(stamp, "utf8") === flagKey) {
  const built = Math.min(statSync(primary).mtimeMs, statSync(builtinOut).mtimeMs);
  if (sources.every((s) => statSync(s).mtimeMs <= built)) {
    say(`up to date (${primary})`);
    process.exit(0);
  }
}
rmSync(whyFile, { force: true });

for (const [name, [file, flags]] of Object.entries(units)) {
  const r = run(cxx, [...flags, "-c", join(srcDir, file), "-o", obj(name)]);
  if (r.status !== 0) {
    const text = `${r.stderr ?? ""}${r.stdout ?? ""}`;
    if (name === "blas_openblas" && blasChoice === "auto") {
      blas = "builtin";
      whyBuiltin = `OpenBLAS's header does not compile here (${firstError(text)})`;
      continue;
    }
    notBuilt(`${cxx} failed on ${file}: ${firstError(text)}`, `report it, or rebuild with another compiler: CXX=clang++ ${REBUILD}`);
  }
}

/** Links one addon from the shared objects and one BLAS unit, then loads it in a child process, so that
 * a module that cannot load here (a missing shared library, an old CPU) is found now rather than at the
 * first training run. Returns its info() line, or the reason it failed. */
function link(out, blasUnit, libs) {
  const tmp = `${out}.tmp`;
  // macOS's linker refuses the N-API symbols a Node addon leaves for the node binary to provide.
  const r = run(cxx, ["-shared", "-pthread", ...(mac ? ["-undefined", "dynamic_lookup"] : []), "-o", tmp, ...shared, obj(blasUnit), ...libs, "-lm"]);
  if (r.status !== 0) return { error: `linking failed: ${firstError(`${r.stderr ?? ""}${r.stdout ?? ""}`)}` };
  const loader = `const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(tmp)}); console.log(m.exports.info());`;
  const check = spawnSync(process.execPath, ["-e", loader], { encoding: "utf8" });
  if (check.status !== 0) {
    rmSync(tmp, { force: true });
    return { error: `the addon does not load: ${firstError(check.stderr ?? "")}` };
  }
  renameSync(tmp, out);
  return { info: check.stdout.trim() };
}

const builtin = link(builtinOut, "blas_builtin", []);
if (builtin.error) notBuilt(`the built-in GEMM build: ${builtin.error}`, `report it; meanwhile BABYGPT_NATIVE=0 skips the build`);

let main;
if (blas !== "builtin") {
  main = link(primary, `blas_${blas}`, libsFor[blas]);
  if (main.error) {
    if (blasChoice !== "auto") notBuilt(`BABYGPT_BLAS=${blasChoice}: ${main.error}`, blas === "openblas" ? `apt-get install -y libopenblas-dev && ${REBUILD}` : undefined, 1);
    whyBuiltin = `the ${blas === "openblas" ? "OpenBLAS" : "Accelerate"} build failed: ${main.error}`;
    blas = "builtin";
  }
}
if (blas === "builtin") {
  copyFileSync(builtinOut, primary);
  main = builtin;
}
writeFileSync(stamp, JSON.stringify({ cxx, version: probe.stdout.split("\n")[0], units, blas, whyBuiltin, libs: libsFor[blas] }));
if (blas === "builtin") {
  const fix = blasChoice === "builtin" || mac ? "" : `; for OpenBLAS's sgemm instead: apt-get install -y libopenblas-dev && ${REBUILD}`;
  say(`built ${primary} on ${main.info}, since ${whyBuiltin}${fix}`);
} else {
  say(`built ${primary} with ${main.info}, and ${builtinOut} with the built-in GEMM`);
}

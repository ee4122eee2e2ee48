// `npm run gpu:kit`: the GPU kit, one archive for a bare Linux x64 machine with an NVIDIA GPU (no Node, no
// npm, no network needed there): dist/babygpt-gpu-kit-linux-x64.tar.xz, which unpacks to
// babygpt-gpu-kit/ with run.sh in it. At most 60 MiB (what can be copied to a borrowed machine quickly).
//
//   npm run gpu:kit [-- --out FILE] [--xz-level 0-9] [--dir DIR]
//
// --dir also leaves the unpacked folder at DIR (it must not exist). The corpus goes in when
// BABYGPT_DATA_DIR holds tinyshakespeare.txt.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { UserError } from "../runtime/errors.js";
import { PROJECT_ROOT } from "../runtime/paths.js";
import { assembleKit } from "./assemble.js";
import { bundleKit, staticInputs } from "./bundle.js";

export const KIT_NAME = "babygpt-gpu-kit";
export const ARCHIVE = `dist/${KIT_NAME}-linux-x64.tar.xz`;
/** The most the archive may weigh. */
export const MAX_BYTES = 60 * 2 ** 20;

export interface BuildOptions {
  readonly out?: string;
  readonly xzLevel?: number;
  /** Also leave the unpacked folder here. */
  readonly dir?: string;
  readonly log?: (line: string) => void;
}

export interface BuiltKit {
  readonly archive: string;
  readonly bytes: number;
  readonly seconds: number;
}

/** Runs a command; a failure is one line with its stderr's last line. */
function run(cmd: string, args: readonly string[], what: string): void {
  const r = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] });
  if (r.error || r.status !== 0) throw new UserError(`${what} failed: ${r.error?.message ?? r.stderr.trim().split("\n").at(-1) ?? `exit code ${r.status}`}`);
}

export async function buildKit(options: BuildOptions = {}): Promise<BuiltKit> {
  const began = performance.now();
  const log = options.log ?? (() => {});
  if (process.platform !== "linux" || process.arch !== "x64") throw new UserError(`the GPU kit is for Linux x64 and is built there (this is ${process.platform}-${process.arch})`);
  const archive = resolve(options.out ?? join(PROJECT_ROOT, ARCHIVE));
  const level = options.xzLevel ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new UserError(`--xz-level ${level}: choose 0 to 9`);
  if (options.dir !== undefined && existsSync(options.dir)) throw new UserError(`--dir ${options.dir} exists; name a folder to create`);
  const stage = mkdtempSync(join(tmpdir(), "babygpt-kit-build-"));
  try {
    const kit = join(stage, KIT_NAME);
    log("bundling the code with esbuild …");
    const meta = await bundleKit(PROJECT_ROOT, join(kit, "app"));
    // The measurements must not load the TypeScript compiler to start.
    for (const entry of ["gpu-kit", "webgpu-steps", "torch-run"] as const) {
      const ts = [...staticInputs(meta, entry, join(kit, "app"))].find((i) => /node_modules\/(typescript|ts-morph)\//.test(i));
      if (ts) throw new Error(`the kit's ${entry} would load ${ts} at its start`);
    }
    log("copying Node, Dawn, the Vulkan loader, the specs, the torch engine's Python …");
    const { info, corpus, nodeStripped } = assembleKit(PROJECT_ROOT, kit, join(PROJECT_ROOT, "kit/sh"));
    log(`  Node ${info.node}${nodeStripped ? " (stripped)" : ""}, ${info.dawn}, ${info.vulkanLoader}, corpus: ${corpus ?? "none (BABYGPT_DATA_DIR has no tinyshakespeare.txt)"}`);
    log(`compressing (xz -${level}) …`);
    mkdirSync(dirname(archive), { recursive: true });
    const partial = `${archive}.partial`;
    // Owned by root in the archive, so that unpacking as root gives files owned by root, not by a uid
    // from the build machine.
    run("tar", ["-C", stage, "--owner=0", "--group=0", "--numeric-owner", "--sort=name", `--use-compress-program=xz -T0 -${level}`, "-cf", partial, KIT_NAME], "tar with xz");
    const bytes = statSync(partial).size;
    if (bytes > MAX_BYTES) {
      rmSync(partial, { force: true });
      throw new UserError(`the kit would be ${(bytes / 2 ** 20).toFixed(1)} MiB, over its ${MAX_BYTES / 2 ** 20} MiB limit`);
    }
    renameSync(partial, archive);
    if (options.dir !== undefined) cpSync(kit, resolve(options.dir), { recursive: true });
    return { archive, bytes, seconds: (performance.now() - began) / 1000 };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(PROJECT_ROOT, "kit/build.ts")) {
  try {
    const { values } = parseArgs({ options: { out: { type: "string" }, "xz-level": { type: "string" }, dir: { type: "string" } } });
    const built = await buildKit({
      ...(values.out !== undefined ? { out: values.out } : {}),
      ...(values["xz-level"] !== undefined ? { xzLevel: Number(values["xz-level"]) } : {}),
      ...(values.dir !== undefined ? { dir: values.dir } : {}),
      log: (line) => console.error(line),
    });
    console.log(`wrote ${built.archive} (${(built.bytes / 2 ** 20).toFixed(1)} MiB) in ${built.seconds.toFixed(0)} s`);
    console.log(`on the GPU machine: tar xJf ${basename(built.archive)} && ./${KIT_NAME}/run.sh --out gpu-results`);
  } catch (e) {
    console.error(`gpu:kit: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
    process.exit(e instanceof UserError || (e as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? 2 : 1);
  }
}

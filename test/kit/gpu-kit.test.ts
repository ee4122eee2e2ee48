// The GPU kit works on a machine with no Node: `npm run gpu:kit`'s archive (built here at xz -1, which
// changes only its size), unpacked into a temporary folder and run there under `env -i` with a PATH that
// holds bash, grep and getconf alone, on lavapipe (Mesa's software Vulkan driver, named to the loader so
// that a machine with a GPU tests the same thing), with a short budget. Its results must name the
// software adapter, hold a finite baby-GPT step time, and say in one line why every other part has no
// figure. The kit's own CLI starts the same way.
//
// Needs tar and xz, the webgpu package's dawn.node, Debian's libvulkan1 and Mesa's lavapipe; skips saying
// which is missing, except under BABYGPT_REQUIRE_WEBGPU=1 (CI), where a missing one fails the test.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildKit, KIT_NAME, MAX_BYTES } from "../../kit/build.js";
import type { KitResults } from "../../kit/results.js";
import { PROJECT_ROOT, useSharedData } from "../helpers/project.js";

/** The host tools run.sh uses, linked into the PATH the kit runs with. */
const TOOLS = ["bash", "grep", "getconf"];
const BUDGET = 60;

const onPath = (tool: string): string | undefined =>
  (process.env["PATH"] ?? "")
    .split(delimiter)
    .map((d) => join(d, tool))
    .find((p) => existsSync(p));

/** Mesa's lavapipe ICD file, which points the Vulkan loader at the software driver. */
function lavapipeIcd(): string | undefined {
  for (const dir of ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d", "/usr/local/share/vulkan/icd.d"]) {
    if (!existsSync(dir)) continue;
    const f = readdirSync(dir).find((n) => /^lvp_icd.*\.json$/.test(n));
    if (f) return join(dir, f);
  }
  return undefined;
}

function unavailable(): string | undefined {
  for (const t of ["tar", "xz", ...TOOLS]) if (!onPath(t)) return `${t} is not on PATH`;
  if (!existsSync(join(PROJECT_ROOT, "node_modules/webgpu/dist/linux-x64/dawn.node"))) return "the webgpu package's dawn.node is not installed";
  if (!["/usr/lib/x86_64-linux-gnu/libvulkan.so.1", "/usr/lib64/libvulkan.so.1"].some((p) => existsSync(p))) return "libvulkan.so.1 is not installed (Debian's libvulkan1)";
  if (!lavapipeIcd()) return "Mesa's lavapipe is not installed (mesa-vulkan-drivers)";
  if (process.platform !== "linux" || process.arch !== "x64") return "the kit is for linux-x64";
  return undefined;
}

const skipReason = unavailable();
if (skipReason && process.env["BABYGPT_REQUIRE_WEBGPU"] === "1") throw new Error(`BABYGPT_REQUIRE_WEBGPU=1 but ${skipReason}`);
if (skipReason) console.warn(`GPU kit test skipped: ${skipReason}`);

/** The test's folder: the archive, the unpacked kit, the tools' links, the results. Made only when the test runs. */
let work = "";

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A program of the unpacked kit under `env -i`: only PATH (the tools' links), HOME and the lavapipe ICD. */
function inBareEnv(program: string, args: readonly string[], cwd: string): Promise<Ran> {
  const env = [`PATH=${join(work, "bin")}`, `HOME=${join(work, "home")}`, `VK_DRIVER_FILES=${lavapipeIcd()}`];
  return new Promise((resolve) => {
    const child = spawn("/usr/bin/env", ["-i", ...env, program, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(skipReason !== undefined)(`the GPU kit on a bare machine${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  let kit = "";
  let archiveBytes = 0;

  afterAll(() => rmSync(work, { recursive: true, force: true }));
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "babygpt-kit-test-"));
    kit = join(work, KIT_NAME);
    useSharedData(); // the corpus goes into the kit
    const built = await buildKit({ out: join(work, "kit.tar.xz"), xzLevel: 1 });
    archiveBytes = built.bytes;
    const untar = spawnSync("tar", ["-xJf", built.archive, "-C", work], { encoding: "utf8" });
    expect(untar.status, untar.stderr).toBe(0);
    mkdirSync(join(work, "bin"));
    mkdirSync(join(work, "home"));
    for (const t of TOOLS) symlinkSync(onPath(t)!, join(work, "bin", t));
  }, 300_000);

  it("builds an archive under its limit, with no Node on the PATH it runs with", () => {
    expect(archiveBytes).toBeGreaterThan(0);
    expect(archiveBytes).toBeLessThanOrEqual(MAX_BYTES);
    expect(readdirSync(join(work, "bin")).sort()).toEqual([...TOOLS].sort());
    expect(statSync(join(kit, "node")).mode & 0o111).not.toBe(0);
    // What host.sh checks the machine against, read from the binaries at build time.
    expect(readFileSync(join(kit, "needs.sh"), "utf8")).toMatch(/^KIT_NODE_GLIBC=2\.\d+\nKIT_DAWN_GLIBC=2\.\d+\nKIT_DAWN_GLIBCXX=3\.4\.\d+\nKIT_COMPAT_GLIBC=2\.\d+$/m);
  });

  it("runs ./run.sh on lavapipe: the software adapter named, a finite baby-GPT step, a reason for every missing figure", async () => {
    const out = join(work, "results");
    const r = await inBareEnv("./run.sh", ["--budget", String(BUDGET), "--out", out], kit);
    expect(r.code, r.stderr).toBe(0);
    // The host check's one line comes first.
    expect(r.stderr.split("\n")[0]).toMatch(/^run\.sh: (missing on this machine: .+|this machine has what the kit needs .+)$/);
    const printed = JSON.parse(r.stdout) as KitResults;
    const files = readdirSync(out).filter((f) => /^gpu-kit-.*\.json$/.test(f));
    expect(files).toHaveLength(1);
    const written = JSON.parse(readFileSync(join(out, files[0]!), "utf8")) as KitResults;
    expect(written).toEqual(printed);

    expect(written.kit.node).toMatch(/^v20\./);
    expect(written.kit.commit).not.toMatch(/checkout/);
    expect(written.host.vulkanDriver).toContain("lvp_icd");
    expect(written.adapter.status).toBe("ok");
    expect(written.adapter.software).toMatch(/software/);
    expect(Object.keys(written.adapter.limits ?? {})).toContain("maxStorageBufferBindingSize");
    const baby = written.models.find((m) => m.spec === "specs/12-baby-gpt.yaml")!;
    expect(baby.webgpu.status).toBe("ok");
    expect(Number.isFinite(baby.webgpu.msPerStep) && baby.webgpu.msPerStep! > 0).toBe(true);
    expect(baby.webgpu.tokensPerSec).toBeCloseTo((baby.batch * baby.block) / (baby.webgpu.msPerStep! / 1000), 6);
    // The lecture GPT is left out on a software adapter, saying so.
    expect(written.models.find((m) => m.spec === "specs/11-gpt.yaml")!.webgpu.note).toMatch(/software adapter/);
    // Within the budget, and every part without a figure says why in one line.
    expect(written.seconds).toBeLessThanOrEqual(BUDGET);
    const parts = [written.gpu, written.adapter, written.kernels, written.full, ...written.models.flatMap((m) => [m.webgpu, m.torch])];
    for (const p of parts) {
      if (p.status === "ok") continue;
      expect(p.note, JSON.stringify(p)).toMatch(/^[^\n]+$/);
    }
  }, 300_000);

  it("starts the kit's own babygpt command the same way", async () => {
    const version = (JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string }).version;
    const r = await inBareEnv("./babygpt", ["--version"], kit);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
    const bad = await inBareEnv("./run.sh", ["--budget", "soon"], kit);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n").at(-1)).toMatch(/^run\.sh: --budget soon: give whole seconds/);
  });
});

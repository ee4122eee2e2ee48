// This machine, as the kit's results record it: what Node sees (CPU, memory, glibc) and what run.sh found
// when it checked the host (kit/run.sh passes its findings in BABYGPT_KIT_* variables), and the kit itself
// (<kit>/kit.json, written by the build).
import { existsSync, readFileSync } from "node:fs";
import { cpus, hostname, release, totalmem, type } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../runtime/paths.js";
import { versions } from "../../runtime/versions.js";
import type { HostInfo, KitInfo } from "../results.js";

const env = (name: string, otherwise: string): string => process.env[`BABYGPT_KIT_${name}`] ?? otherwise;

export function hostInfo(): HostInfo {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return {
    hostname: hostname(),
    os: `${type()} ${release()}`,
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    glibc: header?.glibcVersionRuntime ?? "unknown",
    missing: env("MISSING", ""),
    vulkanDriver: env("VULKAN_DRIVER", "not checked (run from a checkout, not through run.sh)"),
    libstdcxx: env("LIBSTDCXX", "the host's"),
  };
}

/** <kit>/kit.json, or what a checkout knows of itself. */
export function kitInfo(): KitInfo {
  const file = join(PROJECT_ROOT, "kit.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as KitInfo;
  const v = versions();
  return { babygpt: v["babygpt"]!, commit: "a checkout (not a built kit)", built: "", node: process.version, tfjs: v["tfjs"]!, dawn: "the checkout's webgpu package", vulkanLoader: "the system's" };
}

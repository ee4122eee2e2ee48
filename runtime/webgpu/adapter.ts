/// <reference types="@webgpu/types" />
// The WebGPU adapter of this process: Dawn's Node binding (the `webgpu` package, a prebuilt dawn.node for
// linux, macOS and Windows inside the package) gives `navigator.gpu`, which reaches Vulkan on Linux, Metal on
// macOS and D3D12 on Windows. Opened once, and described for the run log, meta.json and `auto`'s choice:
// a software adapter (Mesa's lavapipe/llvmpipe, SwiftShader, WARP) is WebGPU emulated on the CPU, slower
// than the native backend, so `auto` passes it by and says why.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** What the run log and meta.json record about the adapter. */
export interface AdapterDescription {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** Why this adapter is WebGPU on the CPU rather than a GPU, or undefined for a GPU. */
  readonly software?: string;
}

export interface OpenedAdapter {
  readonly adapter: GPUAdapter;
  readonly info: AdapterDescription;
  readonly features: readonly string[];
  /** Every limit the adapter reports, by name. */
  readonly limits: Readonly<Record<string, number>>;
}

/** Names a software adapter gives itself (the adapter info's device or description). */
const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|softpipe|microsoft basic render|warp/i;

/** Why the adapter is a software one, or undefined for a GPU. */
export function softwareReason(info: Omit<AdapterDescription, "software">, isFallbackAdapter = false): string | undefined {
  const name = info.description || info.device || info.vendor || "the adapter";
  if (info.architecture.toLowerCase() === "software") return `${name} is a software adapter (architecture: software): WebGPU run on the CPU, slower than the native backend`;
  if (SOFTWARE_NAMES.test(`${info.device} ${info.description}`)) return `${name} is a software adapter: WebGPU run on the CPU, slower than the native backend`;
  if (isFallbackAdapter) return `${name} is a fallback (software) adapter: WebGPU run on the CPU, slower than the native backend`;
  return undefined;
}

/** One line for the run log: "NVIDIA H100 (nvidia, hopper)" or "llvmpipe: Mesa 25.0.7 (mesa, software; software adapter)". */
export function adapterLine(info: AdapterDescription): string {
  const what = [info.vendor, info.architecture].filter(Boolean).join(", ");
  return `${info.description || info.device || "unnamed adapter"}${what ? ` (${what}${info.software ? "; software adapter" : ""})` : info.software ? " (software adapter)" : ""}`;
}

let opened: Promise<OpenedAdapter> | undefined;

/** Opens the process's adapter (once); rejects with one line saying why there is none. */
export function openAdapter(): Promise<OpenedAdapter> {
  opened ??= open();
  return opened;
}

/** Dawn's Vulkan loader and Mesa's drivers want a runtime directory; without one they print errors. A
 * private one, removed when the process exits, serves where the session has none (a service, CI). */
function ensureRuntimeDir(): void {
  if (process.env["XDG_RUNTIME_DIR"]) return;
  const dir = mkdtempSync(join(tmpdir(), "babygpt-xdg-"));
  process.env["XDG_RUNTIME_DIR"] = dir;
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
}

const PROBE = join(dirname(fileURLToPath(import.meta.url)), "probe.mjs");

/** A probe: its answer, and a way to make the process wait for it. */
interface Probe {
  readonly answer: Promise<AdapterDescription | Error>;
  readonly hold: () => void;
}

/** The probe of this process. */
let probing: Probe | undefined;

/**
 * Starts the probe (probe.mjs, a process of its own; once per process) and returns it at once, so that a
 * command can do its other preparations while the probe loads Dawn. Until probeAdapter waits for it, the
 * probe does not keep this process alive: a command that ends first does not wait for its answer.
 */
export function startAdapterProbe(): Probe {
  if (probing) return probing;
  ensureRuntimeDir();
  const child = spawn(process.execPath, [PROBE], { stdio: ["ignore", "pipe", "ignore"] });
  const stdout = child.stdout as Socket;
  let out = "";
  stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  timer.unref();
  const answer = new Promise<AdapterDescription | Error>((resolve) => {
    child.on("error", (e) => resolve(new Error(`the WebGPU probe (${PROBE}) did not start: ${e.message}`)));
    child.on("close", (_code, signal) => {
      clearTimeout(timer);
      resolve(parseProbe(out, signal));
    });
  });
  child.unref();
  stdout.unref();
  probing = {
    answer,
    hold: () => {
      child.ref();
      stdout.ref();
    },
  };
  return probing;
}

/** The probe's last line → the adapter's description, or why there is none. */
function parseProbe(out: string, signal: NodeJS.Signals | null): AdapterDescription | Error {
  const line = out.trim().split("\n").at(-1) ?? "";
  let parsed: { error?: string; vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    return new Error(`the WebGPU probe (${PROBE}) gave no answer${signal ? ` (killed by ${signal})` : ""}`);
  }
  if (parsed.error) return new Error(parsed.error);
  const base = { vendor: parsed.vendor ?? "", architecture: parsed.architecture ?? "", device: parsed.device ?? "", description: parsed.description ?? "" };
  const software = softwareReason(base, parsed.isFallbackAdapter === true);
  return software ? { ...base, software } : base;
}

/**
 * The adapter's description from a process of its own (probe.mjs), without loading Dawn here: what
 * `--backend auto` asks first, so that a machine whose only adapter is a software one never has Dawn in
 * the command's process (its warnings on stderr, its hold on Node's exit). Rejects with one line where
 * there is no adapter. Once per process: a command may select its backend more than once (the ladder).
 */
export async function probeAdapter(): Promise<AdapterDescription> {
  const probe = startAdapterProbe();
  probe.hold();
  const answer = await probe.answer;
  if (answer instanceof Error) throw answer;
  return answer;
}

async function open(): Promise<OpenedAdapter> {
  ensureRuntimeDir();
  let dawn: { create(options: string[]): GPU; globals: Record<string, unknown> };
  try {
    dawn = (await import("webgpu" as string)) as typeof dawn;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ERR_MODULE_NOT_FOUND") throw new Error("the webgpu package is not installed (an optional dependency: npm ci installs it where it can)");
    throw new Error(`dawn.node (the webgpu package) does not load here: ${err.message.split("\n")[0]}`);
  }
  // tfjs-backend-webgpu reads GPUBufferUsage, GPUMapMode, ... as globals, and navigator.gpu.
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav) Object.defineProperty(nav, "gpu", { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, "navigator", { value: { gpu }, configurable: true, writable: true });
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new Error("no WebGPU adapter: Dawn found no Vulkan, Metal or D3D12 device (on Linux, install the GPU's Vulkan driver or Mesa's mesa-vulkan-drivers)");
  // adapter.info is newer than the @webgpu/types tfjs-core brings (0.1.38).
  const i = (adapter as unknown as { info: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean } }).info;
  const base = { vendor: i.vendor ?? "", architecture: i.architecture ?? "", device: i.device ?? "", description: i.description ?? "" };
  const software = softwareReason(base, i.isFallbackAdapter === true);
  const limits: Record<string, number> = {};
  // The limits are getters on the prototype: Object.keys of the object itself gives nothing.
  for (let proto = Object.getPrototypeOf(adapter.limits) as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const value = (adapter.limits as unknown as Record<string, unknown>)[name];
      if (typeof value === "number") limits[name] = value;
    }
  }
  return { adapter, info: software ? { ...base, software } : base, features: [...adapter.features].map(String).sort(), limits };
}

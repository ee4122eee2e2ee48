// The page's tensor backend: WebGPU where the browser offers an adapter, else WebGL, else WebAssembly,
// else plain JavaScript. `auto` prefers a real GPU: a fallback adapter (a software rasterizer such as
// SwiftShader) is only taken when asked for by name, since WebGL or wasm is then no slower.
import "@tensorflow/tfjs-backend-webgpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import wasmPlain from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url";
import wasmSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url";
import wasmThreaded from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url";
import { registerWasmKernels } from "../../runtime/backend/wasm-kernels.js";
import { UserError } from "../../runtime/errors.js";
import { tf } from "../../runtime/nn/tf.js";

export const PAGE_BACKENDS = ["auto", "webgpu", "webgl", "wasm", "cpu"] as const;
export type PageBackend = (typeof PAGE_BACKENDS)[number];

export interface PageBackendInfo {
  readonly name: Exclude<PageBackend, "auto">;
  /** What it runs on, for the page: the adapter, the GL renderer. */
  readonly detail: string;
}

setWasmPaths({ "tfjs-backend-wasm.wasm": wasmPlain, "tfjs-backend-wasm-simd.wasm": wasmSimd, "tfjs-backend-wasm-threaded-simd.wasm": wasmThreaded });

interface GpuAdapterLike {
  readonly isFallbackAdapter?: boolean;
  readonly info?: { readonly vendor?: string; readonly architecture?: string; readonly description?: string; readonly isFallbackAdapter?: boolean };
}

async function webgpuAdapter(): Promise<GpuAdapterLike | undefined> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } }).gpu;
  if (!gpu) return undefined;
  try {
    return (await gpu.requestAdapter()) ?? undefined;
  } catch {
    return undefined;
  }
}

function adapterText(a: GpuAdapterLike): string {
  const i = a.info ?? {};
  return [i.vendor, i.architecture, i.description].filter((s) => s && s.length > 0).join(" ") || "an adapter";
}

const isSoftware = (a: GpuAdapterLike): boolean =>
  a.isFallbackAdapter === true || a.info?.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe/i.test(adapterText(a));

async function use(name: Exclude<PageBackend, "auto">): Promise<boolean> {
  if (name === "wasm") registerWasmKernels();
  try {
    if (!(await tf.setBackend(name))) return false;
    await tf.ready();
    return true;
  } catch {
    return false;
  }
}

function glRenderer(): string {
  const gl = document.createElement("canvas").getContext("webgl2");
  const ext = gl?.getExtension("WEBGL_debug_renderer_info");
  return gl && ext ? String(gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : "WebGL 2";
}

/**
 * Whether values read back synchronously are right. The runtime's step, loss estimates and checkpoints
 * read with dataSync() until they move to await data(); tfjs-backend-webgpu's synchronous read goes
 * through a canvas, which on a software adapter (SwiftShader, in headless Chromium) gives zeros.
 */
function syncReadsWork(): boolean {
  const [sum] = tf.tidy(() => tf.sum(tf.add(tf.range(0, 2000), 1)).dataSync());
  return sum === 2001000;
}

/** Switches tfjs to `choice` (or the best there is for auto); a named backend that fails is an error. */
export async function selectPageBackend(choice: PageBackend): Promise<PageBackendInfo> {
  const previous = tf.getBackend();
  const adapter = choice === "auto" || choice === "webgpu" ? await webgpuAdapter() : undefined;
  const order: Exclude<PageBackend, "auto">[] =
    choice !== "auto" ? [choice] : [...(adapter && !isSoftware(adapter) ? (["webgpu"] as const) : []), "webgl", "wasm", "cpu"];
  for (const name of order) {
    if (name === "webgpu" && !adapter) continue;
    if (await use(name)) {
      if (name === "webgpu" && !syncReadsWork()) {
        // Back to what ran before (on a fresh page: what auto picks), then say why.
        if (previous) await tf.setBackend(previous);
        else await selectPageBackend("auto");
        if (choice === "webgpu") throw new UserError(`webgpu on ${adapterText(adapter!)} reads zeros back synchronously, which training's loss reads still do; choose webgl or wasm`);
        continue;
      }
      const detail = name === "webgpu" ? adapterText(adapter!) : name === "webgl" ? glRenderer() : name === "wasm" ? "WebAssembly" : "JavaScript";
      return { name, detail };
    }
  }
  throw new Error(choice === "auto" ? "no tensor backend loads in this browser" : `the ${choice} backend does not load in this browser`);
}

// Picks the tensor backend at run time. `auto` takes the fastest that loads: this project's native CPU
// backend (runtime/native: OpenBLAS and C++ kernels, built by `npm ci` where g++ and OpenBLAS exist),
// TensorFlow with CUDA (tfjs-node-gpu), TensorFlow on the CPU (tfjs-node), then the npm-bundled
// WebAssembly and pure-JS backends; before all of them WebGPU, where the adapter is a real GPU (a software
// adapter such as lavapipe emulates the GPU on the CPU, slower than native: auto passes it by and says
// why). The native addon, webgpu and the tfjs-node packages are optional: where their build or download
// failed they are simply absent, and auto moves on, noting why in `skipped`.
import { tf } from "../nn/tf.js";
import { UserError } from "../errors.js";
import { probeAdapter, startAdapterProbe, type AdapterDescription } from "../webgpu/adapter.js";
import { BACKENDS, type BackendChoice, type BackendName } from "./choices.js";
import { loadWebGPUModule } from "./release.js";
import { registerWasmKernels } from "./wasm-kernels.js";

export { BACKENDS, type BackendChoice, type BackendName } from "./choices.js";
export { releaseBackends } from "./release.js";

export interface BackendInfo {
  readonly name: BackendName;
  /** The tfjs backend name (native, tensorflow, wasm, cpu). */
  readonly tfjsName: string;
  /** Why faster backends were skipped, for the run log. */
  readonly skipped: readonly string[];
  /** The name with what the backend runs on, for the run log: "native (OpenBLAS 0.3.21, 2 threads)". */
  readonly description: string;
  /** The GPU adapter, on webgpu. */
  readonly adapter?: AdapterDescription;
}

const AUTO_ORDER: readonly BackendName[] = ["webgpu", "native", "tensorflow-gpu", "tensorflow", "wasm", "cpu"];

async function tryLoad(name: BackendName, auto: boolean, loaded: { adapter?: AdapterDescription }): Promise<string> {
  switch (name) {
    case "webgpu": {
      if (auto) {
        // Whether the adapter is a GPU, asked in a process of its own: a software one is passed by
        // without Dawn ever loading here.
        const probed = await probeAdapter();
        if (probed.software) throw new Error(probed.software);
      }
      const { registerWebGPUBackend, WEBGPU_BACKEND } = await loadWebGPUModule();
      const { info } = await registerWebGPUBackend();
      if (auto && info.software) throw new Error(info.software);
      loaded.adapter = info;
      return WEBGPU_BACKEND;
    }
    case "native": {
      // Loading it = the addon loads and the backend registers; its module is only imported here so
      // that the other backends never touch it.
      const { registerNativeBackend, NATIVE_BACKEND } = await import("../native/backend.js");
      registerNativeBackend();
      return NATIVE_BACKEND;
    }
    case "tensorflow-gpu":
      await import("@tensorflow/tfjs-node-gpu" as string);
      return "tensorflow";
    case "tensorflow":
      await import("@tensorflow/tfjs-node" as string);
      return "tensorflow";
    case "wasm": {
      await import("@tensorflow/tfjs-backend-wasm");
      registerWasmKernels();
      return "wasm";
    }
    case "cpu":
      await import("@tensorflow/tfjs-backend-cpu");
      return "cpu";
  }
}

/**
 * Starts what choosing `choice` waits on that can run beside the command's other preparations: for auto,
 * the WebGPU probe (a process of its own). selectBackend works without it.
 */
export function prefetchBackend(choice: BackendChoice): void {
  if (choice === "auto") startAdapterProbe();
}

/** The optional packages behind each backend, which npm leaves out where their install cannot run. */
const PACKAGES: Partial<Record<BackendName, string>> = { "tensorflow-gpu": "@tensorflow/tfjs-node-gpu", tensorflow: "@tensorflow/tfjs-node" };

/** Why a backend did not load, in a line: an optional package that was never installed is not breakage. */
function whyNot(name: BackendName, e: unknown): string {
  const pkg = PACKAGES[name];
  const err = e as NodeJS.ErrnoException | undefined;
  if (pkg && err?.code === "ERR_MODULE_NOT_FOUND" && err.message.includes(`'${pkg}'`)) return "not installed (an optional dependency whose install downloads TensorFlow)";
  return e instanceof Error ? e.message.split("\n")[0]! : String(e);
}

/** "native (OpenBLAS 0.3.21, 2 threads)", or "wasm (skipped native: …; tensorflow: not installed …)": the backend and why faster ones were passed over. */
export function describeBackend(info: BackendInfo): string {
  return `${info.description}${info.skipped.length ? ` (skipped ${info.skipped.join("; ")})` : ""}`;
}

export async function selectBackend(choice: BackendChoice = "auto"): Promise<BackendInfo> {
  if (!BACKENDS.includes(choice)) {
    throw new UserError(`unknown backend "${String(choice)}"; choose one of ${BACKENDS.join(", ")}`);
  }
  const candidates = choice === "auto" ? AUTO_ORDER : [choice];
  const skipped: string[] = [];
  for (const name of candidates) {
    try {
      const loaded: { adapter?: AdapterDescription } = {};
      const tfjsName = await tryLoad(name, choice === "auto", loaded);
      if (!(await tf.setBackend(tfjsName))) throw new Error(`tf.setBackend("${tfjsName}") failed`);
      await tf.ready();
      // The cpu backend greets Node users with a banner recommending tfjs-node; we already chose.
      if (tfjsName === "cpu") (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
      const description = name === "native" ? (await import("../native/describe.js")).describeNativeBackend() : name;
      return loaded.adapter ? { name, tfjsName, skipped, description, adapter: loaded.adapter } : { name, tfjsName, skipped, description };
    } catch (e) {
      const reason = whyNot(name, e);
      skipped.push(`${name}: ${reason}`);
      if (choice !== "auto") throw new UserError(`backend ${name} is not available here: ${reason}`);
    }
  }
  throw new UserError(`no backend could be loaded:\n  ${skipped.join("\n  ")}`);
}

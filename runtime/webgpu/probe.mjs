// Describes the WebGPU adapter in a process of its own, for `--backend auto` (runtime/webgpu/adapter.ts's
// probeAdapter): auto must learn whether the adapter is a GPU before loading Dawn into the command's own
// process, because Dawn prints warnings on stderr while it opens some adapters (lavapipe's limits), a
// software adapter is passed by anyway, and Node does not exit while Dawn's instance is referenced.
// Plain JavaScript, run by `node` alone. Prints one JSON line: the adapter's info, or why there is none.
let out;
try {
  const { create } = await import("webgpu");
  const adapter = await create([]).requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) out = { error: "no WebGPU adapter: Dawn found no Vulkan, Metal or D3D12 device (on Linux, install the GPU's Vulkan driver or Mesa's mesa-vulkan-drivers)" };
  else {
    const i = adapter.info;
    out = { vendor: i.vendor ?? "", architecture: i.architecture ?? "", device: i.device ?? "", description: i.description ?? "", isFallbackAdapter: i.isFallbackAdapter === true };
  }
} catch (e) {
  out = { error: e?.code === "ERR_MODULE_NOT_FOUND" ? "the webgpu package is not installed (an optional dependency: npm ci installs it where it can)" : `dawn.node (the webgpu package) does not load here: ${String(e?.message ?? e).split("\n")[0]}` };
}
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);

// Whether the webgpu backend can run here: the `webgpu` package (dawn.node) loads and Dawn finds an
// adapter (in CI, Mesa's lavapipe: a software Vulkan driver, the GPU emulated on the CPU). Tests of it skip
// with the reason where it cannot, except under BABYGPT_REQUIRE_WEBGPU=1 (CI), where a missing package or
// adapter is a failure rather than a quiet skip.
import { registerWebGPUBackend } from "../../runtime/webgpu/backend.js";

export async function webgpuUnavailable(): Promise<string | undefined> {
  let reason: string | undefined;
  try {
    await registerWebGPUBackend();
  } catch (e) {
    reason = e instanceof Error ? e.message.split("\n")[0] : String(e);
  }
  if (reason && process.env["BABYGPT_REQUIRE_WEBGPU"] === "1") throw new Error(`BABYGPT_REQUIRE_WEBGPU=1 but ${reason}`);
  if (reason) console.warn(`webgpu backend tests skipped: ${reason}`);
  return reason;
}

// Whether the native backend can run here. Tests of it skip with the reason where it cannot, except under
// BABYGPT_REQUIRE_NATIVE=1 (CI), where a missing or broken addon is a failure rather than a quiet skip.
import { existsSync } from "node:fs";
import { ADDON_PATH } from "../../runtime/native/addon.js";
import { registerNativeBackend } from "../../runtime/native/backend.js";

export function nativeUnavailable(): string | undefined {
  let reason: string | undefined;
  if (!existsSync(ADDON_PATH)) {
    reason = `the addon is not built (${ADDON_PATH} missing: run node runtime/native/build.mjs)`;
  } else {
    try {
      registerNativeBackend();
    } catch (e) {
      reason = `the addon does not load: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`;
    }
  }
  if (reason && process.env["BABYGPT_REQUIRE_NATIVE"] === "1") throw new Error(`BABYGPT_REQUIRE_NATIVE=1 but ${reason}`);
  if (reason) console.warn(`native backend tests skipped: ${reason}`);
  return reason;
}

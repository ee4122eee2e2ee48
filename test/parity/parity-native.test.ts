// Parity with PyTorch on the native backend (the fast path). Skipped with the reason when the addon was not
// built here, unless BABYGPT_REQUIRE_NATIVE=1 (as CI sets it), where a missing addon fails the test.
import { nativeUnavailable } from "../helpers/native.js";
import { parityTests } from "./suite.js";

parityTests("native", nativeUnavailable());

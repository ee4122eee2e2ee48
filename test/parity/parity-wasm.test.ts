// Parity with PyTorch on the WebAssembly backend, which every install has.
import { parityTests } from "./suite.js";

parityTests("wasm");

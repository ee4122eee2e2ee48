// Parity with PyTorch on the pure-JS cpu backend, which the native backend falls back to for the kernels
// it lacks.
import { parityTests } from "./suite.js";

parityTests("cpu");

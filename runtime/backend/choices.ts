// The backends a command may ask for, by name. Apart from select.ts, which loads TensorFlow.js, so that the
// commands can list them in their help without loading it.
export const BACKENDS = ["auto", "webgpu", "native", "tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const;
export type BackendChoice = (typeof BACKENDS)[number];
export type BackendName = Exclude<BackendChoice, "auto">;

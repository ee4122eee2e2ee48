// The backends the benchmark measures, by its names for them. Apart from bench.ts, which loads the
// compiler, so that `babygpt bench --help` can list them without loading it.

/** "native-builtin" is the native backend loaded from build/babygpt_native_builtin.node. */
export const BACKENDS = ["native", "native-builtin", "webgpu", "wasm", "cpu", "tensorflow", "tensorflow-gpu"] as const;

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Separate processes: each test file gets its own tfjs engine and backend.
    pool: "forks",
    // Two files at a time even on 2 cores (vitest's default would be one): most files spend their time
    // starting CLI processes and waiting on them (signals, kills, torchrun), not computing.
    maxWorkers: 2,
    testTimeout: 180_000,
    hookTimeout: 180_000,
    reporters: ["default"],
    projects: [
      { extends: true, test: { name: "all", include: ["test/**/*.test.ts"] } },
      // The native suite once more on the build without a BLAS library (build.mjs always makes it), so
      // that both builds a user can get pass it.
      {
        extends: true,
        test: {
          name: "native-builtin",
          include: ["test/native/**/*.test.ts"],
          env: { BABYGPT_NATIVE_ADDON: "build/babygpt_native_builtin.node" },
        },
      },
    ],
  },
});

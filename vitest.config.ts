import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Separate processes: each test file gets its own tfjs engine and backend.
    pool: "forks",
    testTimeout: 180_000,
    hookTimeout: 180_000,
    reporters: ["default"],
  },
});

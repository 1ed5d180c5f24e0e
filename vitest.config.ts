import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["apps/*/src/**/*.test.ts", "packages/*/src/**/*.test.ts", "scripts/**/*.test.ts"],
    globalSetup: ["packages/test-kit/src/vitest-global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // CI also writes a JSON report, from which .ci/run prints a one-line "N passed, N failed" summary.
    reporters: process.env.CI
      ? ["default", ["json", { outputFile: "node_modules/.cache/vitest-report.json" }]]
      : ["default"],
  },
});

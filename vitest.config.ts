import { defineConfig } from "vitest/config";
import SkipNotesReporter from "./packages/test-kit/src/skip-notes-reporter.js";

export default defineConfig({
  test: {
    include: ["apps/*/src/**/*.test.ts", "packages/*/src/**/*.test.ts", "scripts/**/*.test.ts"],
    globalSetup: ["packages/test-kit/src/vitest-global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // CI also writes a JSON report, from which .ci/run prints a one-line "N passed, N failed" summary.
    // ECODRIX_VITEST_REPORT moves it (.ci/run keeps one per backend).
    reporters: [
      "default",
      new SkipNotesReporter(),
      ...(process.env.CI
        ? [
            [
              "json",
              { outputFile: process.env.ECODRIX_VITEST_REPORT ?? "node_modules/.cache/vitest-report.json" },
            ] satisfies [string, Record<string, unknown>],
          ]
        : []),
    ],
  },
});

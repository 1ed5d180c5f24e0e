import type { Reporter, TestModule } from "vitest/node";

/**
 * Lists, after the run, every test skipped with a reason (`ctx.skip(condition, reason)`): a test the
 * run's server cannot support is skipped visibly, never silently. The default reporter prints these
 * notes only beside tests it lists, which on a passing run is none.
 */
export default class SkipNotesReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const lines: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === "skipped" && result.note) {
          lines.push(
            `  ↓ ${module.moduleId.replace(`${process.cwd()}/`, "")} > ${test.fullName}: ${result.note}`,
          );
        }
      }
    }
    if (lines.length === 0) return;
    console.log(`\nSkipped on this server, with the reason (${lines.length}):\n${lines.join("\n")}\n`);
  }
}

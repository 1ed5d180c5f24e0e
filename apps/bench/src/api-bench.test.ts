/**
 * Smoke test of `npm run bench:api` with a one-second load per target, against the run's test server: the
 * run completes, its last line is the JSON it promises, no request fails, and an enqueue stays within its
 * budget of MongoDB commands (the key lookup and the insert, at most one more). Nothing about speed.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const script = fileURLToPath(new URL("./api-bench.ts", import.meta.url));

function run(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += String(chunk);
    });
    child.stderr.on("data", (chunk) => {
      stderr += String(chunk);
    });
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("bench:api (smoke, one second per target)", () => {
  let mongo: TestMongo;
  beforeAll(async () => {
    mongo = await createTestMongo("benchapi");
  });
  afterAll(() => mongo?.close());

  it("prints its figures as the last line, with no errors and at most 3 commands per enqueue", async () => {
    const { code, stdout, stderr } = await run({
      ...process.env,
      MONGODB_URI: mongo.uri,
      BENCH_SECONDS: "1",
      BENCH_WARMUP_SECONDS: "1",
      BENCH_CONNECTIONS: "4",
    });
    expect(code, stderr).toBe(0);
    const last = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, number>;
    expect(Object.keys(last).sort()).toEqual(
      ["bare_insert_rps", "commands_per_request", "enqueue_p99_ms", "enqueue_rps", "errors"].sort(),
    );
    expect(last.errors).toBe(0);
    expect(last.enqueue_rps).toBeGreaterThan(0);
    expect(last.bare_insert_rps).toBeGreaterThan(0);
    // Two per enqueue (the tenant's key lookup, the job's insert); requests in flight when the counts are
    // read add a little.
    expect(last.commands_per_request).toBeGreaterThanOrEqual(1.9);
    expect(last.commands_per_request).toBeLessThanOrEqual(3);
  }, 120_000);
});

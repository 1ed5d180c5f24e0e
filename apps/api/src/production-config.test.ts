import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** Runs the real API entry point with exactly `env` (nothing inherited but PATH and HOME). */
function runApi(
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "apps/api/src/main.ts")], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (chunk) => {
      stderr += String(chunk);
    });
    child.stdout.on("data", (chunk) => {
      stdout += String(chunk);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

describe("the API process refuses to start in production without a proper admin token", () => {
  const base = {
    NODE_ENV: "production",
    MONGODB_URI: "mongodb://127.0.0.1:1/never-reached",
    ENCRYPTION_KEY: randomBytes(32).toString("hex"),
    PORT: "0",
  };

  it("no CORE_API_TOKEN: exit code 1 and one line naming the variable", async () => {
    const result = await runApi(base);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([
      "configuration error: CORE_API_TOKEN is missing: expected the admin token: at least 16 characters (32+ random characters in production)",
    ]);
    expect(result.stdout).toBe("");
  });

  it("a short CORE_API_TOKEN: exit code 1 and one line", async () => {
    const result = await runApi({ ...base, CORE_API_TOKEN: "only-20-characters!!" });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      "configuration error: CORE_API_TOKEN is too short for production: expected at least 32 random characters",
    );
  });
});

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address ? address.port : 0;
}

/** The real entry point: METRICS_PORT and TRUST_PROXY from the environment reach the listeners. */
describe("the API process", () => {
  let child: ChildProcess;
  let base = "";
  let metricsPort = 0;
  const dbName = `mainproc_${randomBytes(4).toString("hex")}`;

  beforeAll(async () => {
    metricsPort = await freePort();
    child = spawn(process.execPath, ["--import", "tsx", path.join(root, "apps/api/src/main.ts")], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        MONGODB_URI: inject("mongoUri"),
        SERVICES_DB_NAME: dbName,
        CORE_API_TOKEN: randomBytes(24).toString("hex"),
        ENCRYPTION_KEY: randomBytes(32).toString("hex"),
        PORT: "0",
        HOST: "127.0.0.1",
        METRICS_PORT: String(metricsPort),
        TRUST_PROXY: "loopback",
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    base = await new Promise<string>((resolve, reject) => {
      let output = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      child.stderr?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once("exit", (code) =>
        reject(new Error(`the API exited with code ${code}: ${output.slice(-2000)}`)),
      );
    });
  });
  afterAll(async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    }
    const client = new MongoClient(inject("mongoUri"));
    await client.db(dbName).dropDatabase();
    await client.close();
  });

  it("serves /metrics on METRICS_PORT only, never on the public port", async () => {
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain("ecodrix_jobs");
    const onPublicPort = await fetch(`${base}/metrics`);
    expect(onPublicPort.status).toBe(404);
  });

  it("with TRUST_PROXY, the failed-auth limit counts the address X-Forwarded-For names", async () => {
    const attempt = (forwardedFor: string) =>
      fetch(`${base}/api/saas/cors`, {
        headers: { "x-client-code": "nosuchclinic", "x-api-key": "wrong", "x-forwarded-for": forwardedFor },
      });
    for (let n = 0; n < 20; n++) expect((await attempt("203.0.113.10")).status).toBe(401);
    expect((await attempt("203.0.113.10")).status).toBe(429);
    expect((await attempt("203.0.113.11")).status).toBe(401);
  });
});

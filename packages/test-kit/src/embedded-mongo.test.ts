import { spawn } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { MongoClient } from "mongodb";
import { describe, expect, it } from "vitest";
import { startEmbeddedMongo } from "./embedded-mongo.js";
import { isProcessAlive } from "./processes.js";

const here = path.dirname(fileURLToPath(import.meta.url));

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(100);
  }
  return check();
}

describe("embedded MongoDB launcher", () => {
  it("serves the driver and stops its Java process on stop()", async () => {
    const server = await startEmbeddedMongo();
    const client = new MongoClient(server.uri);
    await client.db("x").collection("y").insertOne({ ok: true });
    expect(await client.db("x").collection("y").countDocuments()).toBe(1);
    await client.close();
    await server.stop();
    expect(server.pid && isProcessAlive(server.pid)).toBe(false);
  });

  it("keeps data in the H2 file backend across restarts", async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(path.join(tmpdir(), "ecodrix-h2-"));
    try {
      const file = path.join(dir, "db.mv");
      let server = await startEmbeddedMongo({ backend: "h2", file });
      let client = new MongoClient(server.uri);
      await client.db("x").collection("y").insertOne({ kept: 1 });
      await client.close();
      await server.stop();
      server = await startEmbeddedMongo({ backend: "h2", file });
      client = new MongoClient(server.uri);
      expect(
        await client
          .db("x")
          .collection("y")
          .findOne({}, { projection: { _id: 0 } }),
      ).toEqual({ kept: 1 });
      await client.close();
      await server.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("dies with its parent even when the parent is killed with SIGKILL", async () => {
    const parent = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        `import(${JSON.stringify(path.join(here, "embedded-mongo.ts"))}).then(async (m) => {
           const s = await m.startEmbeddedMongo();
           console.log("JAVA_PID " + s.pid);
           setInterval(() => {}, 1000);
         })`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const javaPid = await new Promise<number>((resolve, reject) => {
      let output = "";
      parent.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const match = /JAVA_PID (\d+)/.exec(output);
        if (match) resolve(Number(match[1]));
      });
      parent.once("exit", () => reject(new Error(`parent exited early: ${output}`)));
    });
    expect(isProcessAlive(javaPid)).toBe(true);
    parent.kill("SIGKILL");
    expect(await waitUntil(() => !isProcessAlive(javaPid), 10_000)).toBe(true);
  });
});

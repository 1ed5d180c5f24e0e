import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createCapabilityRegistry, createSecretBox, keyIdOf } from "@ecodrix/domain";
import { integrationCapabilities } from "@ecodrix/integrations";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const CLIENTS = 1000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI process; `onLine` may signal it (to interrupt it mid-run). */
function runCli(
  mongo: TestMongo,
  args: string[],
  onLine?: (line: string, pid: number) => void,
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(root, "apps/cli/src/main.ts"), ...args],
      {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "",
          MONGODB_URI: mongo.uri,
          SERVICES_DB_NAME: mongo.dbName,
          CORE_API_TOKEN: randomBytes(24).toString("hex"),
          ENCRYPTION_KEY: newKey.toString("hex"),
          ENCRYPTION_KEYS_PREVIOUS: oldKey.toString("base64"),
        },
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      const text = String(chunk);
      stdout += text;
      for (const line of text.split("\n")) if (line && child.pid) onLine?.(line, child.pid);
    });
    child.stderr.on("data", (chunk) => {
      stderr += String(chunk);
    });
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every secret field of a client, plus its datasource URI: the ciphertexts each seeded client holds. */
const SECRET_FIELDS = createCapabilityRegistry(integrationCapabilities).secretFieldNames;
const PER_CLIENT = SECRET_FIELDS.length + 1;

describe("`ecodrix encryption rotate` as a real process over 1,000 clients", () => {
  let mongo: TestMongo;
  const oldBox = createSecretBox({ keys: [oldKey] });
  const newOnly = createSecretBox({ keys: [newKey] });

  async function countUnder(keyId: string): Promise<number> {
    let count = 0;
    for (const name of ["client_secrets", "client_datasources"]) {
      for await (const doc of mongo.db.collection(name).find({})) {
        for (const value of Object.values(doc))
          if (typeof value === "string" && value.startsWith(`ecx1:${keyId}:`)) count++;
      }
    }
    return count;
  }

  beforeAll(async () => {
    mongo = await createTestMongo("rotate");
    const now = new Date();
    const secrets = [];
    const datasources = [];
    for (let n = 0; n < CLIENTS; n++) {
      const clientCode = `clinic-${n}`;
      const doc: Record<string, unknown> = { clientCode, createdAt: now, updatedAt: now };
      for (const field of SECRET_FIELDS) doc[field] = oldBox.encrypt(`${field}-${n}`, { clientCode, field });
      secrets.push(doc);
      datasources.push({
        clientCode,
        dbName: `tenant_${n}`,
        dbUri: oldBox.encrypt(`mongodb://u:pw${n}@db.example/tenant_${n}`, { clientCode, field: "dbUri" }),
        createdAt: now,
        updatedAt: now,
      });
    }
    await mongo.db.collection("client_secrets").insertMany(secrets);
    await mongo.db.collection("client_datasources").insertMany(datasources);
  });
  afterAll(() => mongo.close());

  it("--dry-run reports what it would change and writes nothing", async () => {
    const run = await runCli(mongo, ["encryption", "rotate", "--dry-run"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `dry run: would re-encrypt ${CLIENTS * PER_CLIENT} values in ${CLIENTS * 2} of ${CLIENTS * 2} documents under key ${keyIdOf(newKey)}`,
    );
    expect(run.stdout).toContain("nothing was written");
    expect(await countUnder(keyIdOf(oldKey))).toBe(CLIENTS * PER_CLIENT);
  });

  it("is safe to interrupt (Ctrl-C) and to run again: the rerun finishes exactly the rest", async () => {
    let signalled = false;
    const first = await runCli(mongo, ["encryption", "rotate"], (line, pid) => {
      if (!signalled && line.startsWith("progress client_secrets")) {
        signalled = true;
        process.kill(pid, "SIGINT");
      }
    });
    const doneFirst = await countUnder(keyIdOf(newKey));
    if (first.code === 130) {
      expect(first.stderr).toContain("interrupted");
      expect(doneFirst).toBeGreaterThan(0);
      expect(doneFirst).toBeLessThan(CLIENTS * PER_CLIENT);
    } else {
      expect(first.code).toBe(0); // finished before the signal landed: still consistent
    }

    const second = await runCli(mongo, ["encryption", "rotate"]);
    console.log(`encryption rotate (after an interrupted run) printed:\n${second.stdout}${second.stderr}`);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`re-encrypted ${CLIENTS * PER_CLIENT - doneFirst} values`);
    expect(second.stdout).toContain(`${doneFirst} values already under it`);
    expect(await countUnder(keyIdOf(oldKey))).toBe(0);

    const third = await runCli(mongo, ["encryption", "rotate"]);
    expect(third.stdout).toContain(`re-encrypted 0 values in 0 of ${CLIENTS * 2} documents`);

    // Everything now reads with the new key alone, each value still bound to its client and field.
    const doc = await mongo.db.collection("client_secrets").findOne({ clientCode: "clinic-7" });
    expect(newOnly.decrypt(String(doc?.smtpPass), { clientCode: "clinic-7", field: "smtpPass" })).toBe(
      "smtpPass-7",
    );
    const ds = await mongo.db.collection("client_datasources").findOne({ clientCode: "clinic-999" });
    expect(newOnly.decrypt(String(ds?.dbUri), { clientCode: "clinic-999", field: "dbUri" })).toBe(
      "mongodb://u:pw999@db.example/tenant_999",
    );
  });

  it("reports values no configured key can read and exits 1", async () => {
    const stranger = createSecretBox({ keys: [randomBytes(32)] });
    await mongo.db
      .collection("client_secrets")
      .updateOne(
        { clientCode: "clinic-1" },
        { $set: { smtpPass: stranger.encrypt("x", { clientCode: "clinic-1", field: "smtpPass" }) } },
      );
    const run = await runCli(mongo, ["encryption", "rotate"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `cannot decrypt: client_secrets clinic-1 smtpPass (key ${stranger.currentKeyId})`,
    );
    expect(run.stderr).toContain("ENCRYPTION_KEYS_PREVIOUS");
  });
});

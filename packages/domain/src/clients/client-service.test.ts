import { randomBytes } from "node:crypto";
import { createLogger } from "@ecodrix/platform";
import { createQueue } from "@ecodrix/queue";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCapabilityRegistry, defineCapability } from "../capabilities/capability.js";
import { createCorsOriginRepository } from "../cors/cors-origin-repository.js";
import { createSecretBox } from "../crypto/secret-box.js";
import { createDatasourceRepository } from "../tenants/datasource-repository.js";
import { createClientRepository } from "./client-repository.js";
import { createClientSecretsRepository } from "./client-secrets-repository.js";
import { createClientService } from "./client-service.js";

/** An integration's shape, as the real ones declare it: a secret field and an offboarding step. */
const GOOGLE_TOKENS_COLLECTION = "google_tokens";
const testCapabilities = createCapabilityRegistry([
  defineCapability({
    name: "test-integration",
    secretFields: {
      smtpPass: { type: "string", schema: { type: "string" }, description: "a secret" },
    },
    offboard: [
      {
        name: "googleTokens",
        run: async (clientCode, db) =>
          (await db.collection(GOOGLE_TOKENS_COLLECTION).deleteMany({ clientCode })).deletedCount,
      },
    ],
  }),
]);

describe("offboarding (client delete)", () => {
  let mongo: TestMongo;
  /** A second connection to the same database, used only for the Google tokens step. */
  let tokensClient: MongoClient;

  beforeAll(async () => {
    mongo = await createTestMongo("offboard");
    tokensClient = new MongoClient(mongo.uri);
    await tokensClient.connect();
  });
  afterAll(async () => {
    await tokensClient.close();
    await mongo.close();
  });

  it("a DELETE that fails part-way keeps the (suspended) client, and retrying it completes the cleanup", async () => {
    const db = mongo.db;
    const crypto = createSecretBox({ keys: [randomBytes(32)] });
    const corsOrigins = createCorsOriginRepository({ db });
    const datasources = createDatasourceRepository({ db, crypto });
    const queue = createQueue({ db });
    const service = createClientService({
      clients: createClientRepository({ db }),
      secrets: createClientSecretsRepository({ db }),
      datasources,
      corsOrigins,
      crypto,
      queue,
      db: tokensClient.db(mongo.dbName),
      capabilities: testCapabilities,
      logger: createLogger({ level: "silent", name: "offboard-test" }),
    });
    await Promise.all([service.ensureIndexes(), corsOrigins.ensureIndexes(), queue.ensureIndexes()]);

    const { apiKey } = await service.create({ name: "Gone Clinic", email: "a@goneclinic.com" });
    await service.setSecrets("goneclinic", { smtpPass: "hunter2" });
    await datasources.save("goneclinic", `${mongo.uri}/goneclinic`, "goneclinic");
    await corsOrigins.add("goneclinic", "https://goneclinic.com");
    await db.collection(GOOGLE_TOKENS_COLLECTION).insertOne({ clientCode: "goneclinic", refreshToken: "x" });
    const pending = await queue.enqueue({ type: "send_whatsapp", clientCode: "goneclinic", delayMs: 60_000 });

    // The Google tokens step fails: its connection is gone (a network failure, for real).
    await tokensClient.close();
    await expect(service.delete("goneclinic")).rejects.toThrow(/must be connected/);

    // The client is still there, so the DELETE can be retried; its key no longer works meanwhile.
    expect(await service.get("goneclinic")).toMatchObject({ status: "suspended" });
    await expect(service.authenticate("goneclinic", apiKey)).rejects.toMatchObject({ statusCode: 403 });

    await tokensClient.connect();
    const retried = await service.delete("goneclinic");
    expect(retried).toMatchObject({ clientCode: "goneclinic", deleted: { client: true, googleTokens: 1 } });
    for (const name of ["clients", "client_secrets", "client_datasources", "cors_origins", "google_tokens"]) {
      expect(await db.collection(name).countDocuments({ clientCode: "goneclinic" }), name).toBe(0);
    }
    expect(await corsOrigins.isAllowed("https://goneclinic.com")).toBe(false);
    expect((await queue.get(pending._id))?.status).toBe("cancelled");
    await expect(service.get("goneclinic")).rejects.toMatchObject({ message: "ClientCode not found" });
  });
});

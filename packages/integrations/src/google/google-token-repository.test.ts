import { randomBytes } from "node:crypto";
import { createSecretBox, reencryptStoredSecrets } from "@ecodrix/domain";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOOGLE_TOKENS_COLLECTION } from "./google-capability.js";
import { createGoogleTokenRepository } from "./google-token-repository.js";

describe("google_tokens repository", () => {
  let mongo: TestMongo;
  beforeAll(async () => {
    mongo = await createTestMongo("google_tokens");
  });
  afterAll(() => mongo.close());

  it("stores the refresh token encrypted, returns the one it replaces, and forgets it on delete", async () => {
    const box = createSecretBox({ keys: [randomBytes(32)] });
    const tokens = createGoogleTokenRepository({ db: mongo.db, crypto: box });
    await tokens.ensureIndexes();

    expect(
      await tokens.save("alpha", { email: "a@alpha.test", refreshToken: "1//first", scopes: ["s"] }),
    ).toEqual({
      previousRefreshToken: undefined,
    });
    const raw = await mongo.db.collection(GOOGLE_TOKENS_COLLECTION).findOne({ clientCode: "alpha" });
    expect(String(raw?.refreshToken)).toMatch(/^ecx1:/);
    expect(JSON.stringify(raw)).not.toContain("1//first");

    expect(
      await tokens.save("alpha", { email: "b@alpha.test", refreshToken: "1//second", scopes: ["s"] }),
    ).toEqual({
      previousRefreshToken: "1//first",
    });
    expect(await tokens.credentials("alpha")).toEqual({
      refreshToken: "1//second",
      email: "b@alpha.test",
      status: "connected",
    });
    expect(await tokens.markReconnectRequired("alpha")).toBe(true);
    expect(await tokens.find("alpha")).toMatchObject({ email: "b@alpha.test", status: "reconnect_required" });
    expect(await tokens.delete("alpha")).toEqual({ refreshToken: "1//second", email: "b@alpha.test" });
    expect(await tokens.find("alpha")).toBeNull();
    expect(await tokens.delete("alpha")).toBeNull();
  });

  it("a ciphertext moved to another client does not decrypt (bound to client and field)", async () => {
    const box = createSecretBox({ keys: [randomBytes(32)] });
    const tokens = createGoogleTokenRepository({ db: mongo.db, crypto: box });
    await tokens.save("owner", { email: "o@x.test", refreshToken: "1//owner", scopes: [] });
    await tokens.save("thief", { email: "t@x.test", refreshToken: "1//thief", scopes: [] });
    const stolen = await mongo.db.collection(GOOGLE_TOKENS_COLLECTION).findOne({ clientCode: "owner" });
    await mongo.db
      .collection(GOOGLE_TOKENS_COLLECTION)
      .updateOne({ clientCode: "thief" }, { $set: { refreshToken: stolen?.refreshToken } });
    await expect(tokens.credentials("thief")).rejects.toMatchObject({
      code: "ECODRIX_CRYPTO_DECRYPT_FAILED",
    });
  });

  it("ENCRYPTION_KEY rotation re-encrypts it (the capability's encrypted collection)", async () => {
    // Only this test's documents: the others were written under keys this rotation does not know.
    await mongo.db.collection(GOOGLE_TOKENS_COLLECTION).deleteMany({});
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = createGoogleTokenRepository({ db: mongo.db, crypto: createSecretBox({ keys: [oldKey] }) });
    await before.save("rotated", { email: "r@x.test", refreshToken: "1//rotated", scopes: [] });
    const rotating = createSecretBox({ keys: [newKey, oldKey] });
    const report = await reencryptStoredSecrets({
      db: mongo.db,
      box: rotating,
      collections: [GOOGLE_TOKENS_COLLECTION],
    });
    expect(report.undecryptable).toEqual([]);
    expect(report.byCollection[GOOGLE_TOKENS_COLLECTION]).toEqual({ scanned: 1, changed: 1 });
    const after = createGoogleTokenRepository({ db: mongo.db, crypto: createSecretBox({ keys: [newKey] }) });
    expect(await after.credentials("rotated")).toMatchObject({ refreshToken: "1//rotated" });
  });
});

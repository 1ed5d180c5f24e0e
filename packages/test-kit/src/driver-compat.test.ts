import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createTestMongo, type TestMongo } from "./test-mongo.js";

// What the product needs from the server, checked against whichever server the run uses. The
// findings for the embedded server are written up in this package's README.
describe("official mongodb driver against the test server", () => {
  let mongo: TestMongo;
  const embedded = inject("mongoCapabilities").server === "mongo-java-server";

  beforeAll(async () => {
    mongo = await createTestMongo("compat");
  });
  afterAll(() => mongo.close());

  it("connects and reports a wire version the driver accepts", async () => {
    const hello = await mongo.db.admin().command({ isMaster: 1 });
    expect(hello.maxWireVersion).toBeGreaterThanOrEqual(9);
    if (embedded) expect((await mongo.db.admin().command({ buildInfo: 1 })).version).toBe("7.0.0");
  });

  it("insertMany, findOneAndUpdate with sort, aggregate $group", async () => {
    const col = mongo.db.collection<{ status: string; priority: number; n: number }>("things");
    await col.insertMany(Array.from({ length: 30 }, (_, n) => ({ status: "pending", priority: n % 3, n })));
    const top = await col.findOneAndUpdate(
      { status: "pending" },
      { $set: { status: "processing" } },
      { sort: { priority: -1, n: 1 }, returnDocument: "after" },
    );
    expect(top).toMatchObject({ status: "processing", priority: 2, n: 2 });
    const counts = await col
      .aggregate([{ $group: { _id: "$status", count: { $sum: 1 } } }, { $sort: { _id: 1 } }])
      .toArray();
    expect(counts).toEqual([
      { _id: "pending", count: 29 },
      { _id: "processing", count: 1 },
    ]);
  });

  it("unique and compound indexes are enforced; sparse unique lets documents without the field coexist", async () => {
    const col = mongo.db.collection("indexed");
    await col.createIndex({ a: 1, b: -1 }, { name: "compound" });
    await col.createIndex({ key: 1 }, { unique: true, sparse: true, name: "key_unique" });
    await col.insertMany([{ a: 1 }, { a: 2 }, { key: "k1" }]);
    await expect(col.insertOne({ key: "k1" })).rejects.toMatchObject({ code: 11000 });
    const names = (await col.indexes()).map((index) => index.name);
    expect(names).toEqual(expect.arrayContaining(["compound", "key_unique"]));
  });

  it("partialFilterExpression: honoured by MongoDB and FerretDB, ignored by the embedded server", async () => {
    const col = mongo.db.collection("partial");
    await col.createIndex(
      { dedupeKey: 1 },
      { unique: true, partialFilterExpression: { dedupeKey: { $exists: true } }, name: "partial_unique" },
    );
    await col.insertOne({ other: 1 });
    const second = col.insertOne({ other: 2 });
    if (embedded) {
      // Documents missing the field collide as null: the product uses sparse indexes instead.
      await expect(second).rejects.toMatchObject({ code: 11000 });
    } else {
      await expect(second).resolves.toBeTruthy();
    }
  });
});

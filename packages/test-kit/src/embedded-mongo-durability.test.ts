import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Collection, MongoClient } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";
import { type EmbeddedMongoOptions, startEmbeddedMongo } from "./embedded-mongo.js";

interface Doc {
  key: string;
  fence: string;
  v: number;
}

interface Outcome {
  /** Inserts the server acknowledged before it was killed. */
  acknowledged: number;
  /** Acknowledged inserts missing after the restart. */
  lostInserts: string[];
  /** Keys whose value after the restart is older than the last acknowledged update. */
  lostUpdates: string[];
  survivors: Doc[];
  file: string;
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Eight writers insert and update documents under two unique indexes (as the queue's jobs have
 * `dedupeKey` and `fence`) until the server is SIGKILLed mid-stream; then the server is started
 * again on the same file and what it holds is compared with what it acknowledged.
 */
async function killMidWrite(durability: EmbeddedMongoOptions["durability"]): Promise<Outcome> {
  const dir = mkdtempSync(path.join(tmpdir(), "ecodrix-h2-kill-"));
  dirs.push(dir);
  const file = path.join(dir, "mongo", "db.mv");
  const server = await startEmbeddedMongo({ backend: "h2", file, durability });
  const client = new MongoClient(server.uri, { maxPoolSize: 8, serverSelectionTimeoutMS: 2_000 });
  const docs = client.db("durability").collection<Doc>("docs");
  await docs.createIndex({ key: 1 }, { unique: true });
  await docs.createIndex({ fence: 1 }, { unique: true });

  const inserted = new Set<string>();
  /** key → the last value an acknowledged update set. */
  const updated = new Map<string, number>();
  let killed = false;
  const writer = async (w: number) => {
    const mine: string[] = [];
    for (let n = 0; !killed; n++) {
      const key = `w${w}-${n}`;
      try {
        await docs.insertOne({ key, fence: `f-${key}`, v: 0 });
        inserted.add(key);
        mine.push(key);
        // Every insert is followed by an update of one of this writer's earlier documents, so
        // updates of documents committed long ago are at stake too.
        const target = mine[Math.floor(Math.random() * mine.length)] ?? key;
        const value = n + 1;
        const res = await docs.updateOne({ key: target }, { $set: { v: value } });
        if (res.matchedCount === 1) updated.set(target, value);
      } catch {
        return; // the server is gone
      }
    }
  };
  const writers = Array.from({ length: 8 }, (_, w) => writer(w));
  // At least 2.5 s, so that H2's once-a-second background commit has run ("deferred" then loses only
  // the tail), and at least 100 acknowledged inserts, however busy the machine is.
  const started = Date.now();
  while ((Date.now() - started < 2_500 || inserted.size < 100) && Date.now() - started < 60_000) {
    await sleep(100);
  }
  expect(inserted.size).toBeGreaterThanOrEqual(100);
  process.kill(server.pid ?? 0, "SIGKILL");
  killed = true;
  await server.exited;
  await Promise.all(writers);
  await client.close(true);

  const again = await startEmbeddedMongo({ backend: "h2", file, durability });
  const reader = new MongoClient(again.uri);
  try {
    const survivors = await reader
      .db("durability")
      .collection<Doc>("docs")
      .find({}, { projection: { _id: 0 } })
      .toArray();
    const byKey = new Map(survivors.map((doc) => [doc.key, doc]));
    return {
      acknowledged: inserted.size,
      lostInserts: [...inserted].filter((key) => !byKey.has(key)),
      lostUpdates: [...updated].filter(([key, v]) => (byKey.get(key)?.v ?? -1) < v).map(([key]) => key),
      survivors,
      file,
    };
  } finally {
    await reader.close();
    await again.stop();
  }
}

describe("embedded MongoDB on H2, killed with SIGKILL mid-write", () => {
  it("loses no acknowledged write and keeps its unique indexes consistent", async () => {
    const outcome = await killMidWrite("commit");
    expect(outcome.lostInserts).toEqual([]);
    expect(outcome.lostUpdates).toEqual([]);
    expect(outcome.survivors.length).toBeGreaterThanOrEqual(outcome.acknowledged);

    // The indexes agree with the documents: each survivor is found and changed through each unique
    // index, deleting every survivor empties the collection, and re-inserting the same keys finds no
    // index entry left behind.
    const server = await startEmbeddedMongo({ backend: "h2", file: outcome.file });
    const client = new MongoClient(server.uri);
    try {
      const docs: Collection<Doc> = client.db("durability").collection<Doc>("docs");
      for (const doc of outcome.survivors) {
        const res = await docs.updateOne({ fence: doc.fence }, { $set: { v: -1 } });
        expect(res.matchedCount).toBe(1);
      }
      for (const doc of outcome.survivors) {
        const res = await docs.deleteOne({ key: doc.key });
        expect(res.deletedCount).toBe(1);
      }
      expect(await docs.countDocuments()).toBe(0);
      const reinserted = await docs.insertMany(
        outcome.survivors.map(({ key, fence }) => ({ key, fence, v: 0 })),
        { ordered: false },
      );
      expect(reinserted.insertedCount).toBe(outcome.survivors.length);
    } finally {
      await client.close();
      await server.stop();
    }
  }, 180_000);

  it("(control) with H2's default background commit the same run loses acknowledged writes", async () => {
    // Shows the check above can fail: this is how the server behaved before it committed per write.
    const outcome = await killMidWrite("deferred");
    expect(outcome.lostInserts.length + outcome.lostUpdates.length).toBeGreaterThan(0);
  }, 180_000);

  it("keeps its file readable by its owner only, in a directory only its owner can enter", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ecodrix-h2-mode-"));
    dirs.push(dir);
    const file = path.join(dir, "data", "mongo", "db.mv");
    const server = await startEmbeddedMongo({ backend: "h2", file });
    try {
      expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      await server.stop();
    }
  }, 60_000);
});

import { randomBytes } from "node:crypto";
import { type Db, MongoClient } from "mongodb";
import { inject } from "vitest";

export interface TestMongo {
  uri: string;
  client: MongoClient;
  db: Db;
  dbName: string;
  /** Drops the database and closes the client. */
  close(): Promise<void>;
}

/** A fresh database, unique to the caller, on the run's server (see vitest-global-setup). */
export async function createTestMongo(prefix = "t"): Promise<TestMongo> {
  const uri = inject("mongoUri");
  const dbName = `${prefix}_${randomBytes(6).toString("hex")}`;
  const client = new MongoClient(uri);
  await client.connect();
  const db = client.db(dbName);
  return {
    uri,
    client,
    db,
    dbName,
    async close() {
      await db.dropDatabase().catch(() => {});
      await client.close();
    },
  };
}

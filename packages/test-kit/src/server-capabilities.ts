import { randomBytes } from "node:crypto";
import { MongoClient } from "mongodb";

/** Which server a run talks to, told apart by its buildInfo. */
export type ServerKind = "mongodb" | "ferretdb" | "mongo-java-server";

/**
 * What the run's server can do, where the servers differ (probed once per run by the global setup;
 * tests read it with `inject("mongoCapabilities")` and skip, saying why, what the server cannot do).
 */
export interface ServerCapabilities {
  server: ServerKind;
  /** `$changeStream` works (MongoDB replica sets and Atlas; not a standalone, FerretDB or the embedded server). */
  changeStreams: boolean;
  /** Multi-document transactions commit. */
  transactions: boolean;
  /** A unique index's partialFilterExpression is honoured (the embedded server ignores it). */
  partialIndexes: boolean;
  /** Shape of `explain()`: MongoDB's queryPlanner.winningPlan, PostgreSQL's plan JSON, or no explain. */
  explain: "mongodb" | "postgresql" | "none";
}

function kindOf(buildInfo: Record<string, unknown>): ServerKind {
  if (buildInfo.ferretdb) return "ferretdb";
  // mongo-java-server answers buildInfo with a version and little else.
  if (!buildInfo.gitVersion) return "mongo-java-server";
  return "mongodb";
}

async function succeeds(action: () => Promise<unknown>): Promise<boolean> {
  try {
    await action();
    return true;
  } catch {
    return false;
  }
}

/** Probes the server behind `uri` in a scratch database it drops afterwards. */
export async function probeServerCapabilities(uri: string): Promise<ServerCapabilities> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  const db = client.db(`probe_${randomBytes(4).toString("hex")}`);
  try {
    const server = kindOf(await db.admin().command({ buildInfo: 1 }));
    const changeStreams = await succeeds(async () => {
      const stream = db.collection("probe").watch([], { maxAwaitTimeMS: 10 });
      try {
        await stream.tryNext();
      } finally {
        await stream.close();
      }
    });
    // FerretDB accepts startTransaction and then fails the commit; the embedded server has no sessions.
    const transactions = await succeeds(async () => {
      const session = client.startSession();
      try {
        await session.withTransaction(async () => {
          await db.collection("probe_tx").insertOne({ at: new Date() }, { session });
        });
      } finally {
        await session.endSession();
      }
    });
    const partial = db.collection("probe_partial");
    await partial.createIndex(
      { key: 1 },
      { unique: true, partialFilterExpression: { key: { $exists: true } }, name: "partial_unique" },
    );
    await partial.insertOne({ other: 1 });
    const partialIndexes = await succeeds(() => partial.insertOne({ other: 2 }));
    const explain: ServerCapabilities["explain"] =
      server === "mongo-java-server" ? "none" : server === "ferretdb" ? "postgresql" : "mongodb";
    return { server, changeStreams, transactions, partialIndexes, explain };
  } finally {
    await db.dropDatabase().catch(() => {});
    await client.close();
  }
}

import { type Db, MongoClient, type MongoClientOptions } from "mongodb";

export interface CentralMongo {
  client: MongoClient;
  db: Db;
  close(): Promise<void>;
}

/** Connects to the central database (`services` by default). The driver reconnects by itself. */
export async function connectCentralMongo(
  uri: string,
  dbName: string,
  options: MongoClientOptions = {},
): Promise<CentralMongo> {
  const client = new MongoClient(uri, {
    appName: "ecodrix",
    serverSelectionTimeoutMS: 5_000,
    ...options,
  });
  await client.connect();
  return { client, db: client.db(dbName), close: () => client.close() };
}

/** True when the server answers a ping within `timeoutMs`. */
export async function pingMongo(db: Db, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const ping = db
      .command({ ping: 1 }, { timeoutMS: timeoutMs })
      .then(() => true)
      .catch(() => false);
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

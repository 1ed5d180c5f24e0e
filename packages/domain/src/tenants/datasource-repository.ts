import type { Collection, Db, ObjectId } from "mongodb";
import {
  type ClientRef,
  ownedBy,
  type RecordScope,
  scopeFilter,
} from "../clients/client-secrets-repository.js";
import type { SecretBox } from "../crypto/secret-box.js";
import { databaseKeyOf, parseMongoUri } from "./mongo-uri.js";

export const CLIENT_DATASOURCES_COLLECTION = "client_datasources";

/** A tenant's database: the URI is a ciphertext (it holds a password); the database name is not secret. */
export interface DatasourceDocument {
  _id?: ObjectId;
  clientCode: string;
  /** The client record it belongs to (see ClientSecretsRepository). */
  clientId?: ObjectId;
  dbUri: string;
  dbName: string;
  /** databaseKeyOf(URI, dbName): the same database registered twice is refused (absent on old documents). */
  databaseKey?: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface DatasourceRepository {
  readonly datasources: Collection<DatasourceDocument>;
  ensureIndexes(): Promise<void>;
  /**
   * Bound to the client record (see ClientSecretsRepository.upsert); given only a code (seeding, tests),
   * the document is not bound and counts as whichever client holds the code. `databaseKey`: see
   * databaseKeyOf (absent: the document is keyed later, by isUsedByAnotherClient).
   */
  save(client: ClientRef | string, dbUri: string, dbName: string, databaseKey?: string): Promise<void>;
  /**
   * Whether another client's datasource is this database (`databaseKey`). Documents written before
   * the key existed are decrypted once to compute it, and get it stored.
   */
  isUsedByAnotherClient(databaseKey: string, clientCode: string): Promise<boolean>;
  /** The decrypted URI and database name, or null when none is registered. */
  findUri(clientCode: string): Promise<{ uri: string; dbName: string } | null>;
  findDbName(clientCode: string): Promise<string | null>;
  /** The codes of every client with a registered datasource, in code order. */
  listClientCodes(): Promise<string[]>;
  /** Every datasource of the code (offboarding), or only those not of `keep` (a re-created code). */
  delete(clientCode: string, scope?: RecordScope): Promise<number>;
}

export function createDatasourceRepository({
  db,
  crypto,
}: {
  db: Db;
  crypto: Pick<SecretBox, "encrypt" | "decrypt">;
}): DatasourceRepository {
  const datasources = db.collection<DatasourceDocument>(CLIENT_DATASOURCES_COLLECTION);
  return {
    datasources,
    async ensureIndexes() {
      // Not unique: clients registered before the check may already share a database, and a unique
      // index would then stop the API from starting. The check is in isUsedByAnotherClient.
      await datasources.createIndexes([
        { key: { clientCode: 1 }, name: "clientCode_unique", unique: true },
        { key: { databaseKey: 1 }, name: "databaseKey" },
      ]);
    },
    async save(client, dbUri, dbName, databaseKey) {
      const now = new Date();
      const clientCode = typeof client === "string" ? client : client.clientCode;
      await datasources.updateOne(
        typeof client === "string" ? { clientCode } : ownedBy(client),
        {
          $set: {
            dbUri: crypto.encrypt(dbUri, { clientCode, field: "dbUri" }),
            dbName,
            ...(databaseKey ? { databaseKey } : {}),
            ...(typeof client === "string" ? {} : { clientId: client._id }),
            updatedAt: now,
          },
          $setOnInsert: { clientCode, createdAt: now },
        },
        { upsert: true },
      );
    },
    async isUsedByAnotherClient(databaseKey, clientCode) {
      if (
        await datasources.findOne(
          { databaseKey, clientCode: { $ne: clientCode } },
          { projection: { _id: 1 } },
        )
      ) {
        return true;
      }
      const legacy = await datasources.find({ databaseKey: { $exists: false } }).toArray();
      let used = false;
      for (const doc of legacy) {
        let key: string;
        try {
          key = databaseKeyOf(
            parseMongoUri(crypto.decrypt(doc.dbUri, { clientCode: doc.clientCode, field: "dbUri" })),
            doc.dbName,
          );
        } catch {
          continue; // unreadable under the configured keys: key rotation reports it
        }
        await datasources.updateOne(
          { _id: doc._id, databaseKey: { $exists: false } },
          { $set: { databaseKey: key } },
        );
        if (key === databaseKey && doc.clientCode !== clientCode) used = true;
      }
      return used;
    },
    async listClientCodes() {
      const docs = await datasources
        .find({}, { projection: { clientCode: 1 }, sort: { clientCode: 1 } })
        .toArray();
      return docs.map((doc) => doc.clientCode);
    },
    async findUri(clientCode) {
      const doc = await datasources.findOne({ clientCode });
      if (!doc) return null;
      return { uri: crypto.decrypt(doc.dbUri, { clientCode, field: "dbUri" }), dbName: doc.dbName };
    },
    async findDbName(clientCode) {
      const doc = await datasources.findOne({ clientCode }, { projection: { dbName: 1 } });
      return doc?.dbName ?? null;
    },
    async delete(clientCode, scope = {}) {
      const filter = scopeFilter(clientCode, scope);
      return (await datasources.deleteMany(filter)).deletedCount;
    },
  };
}

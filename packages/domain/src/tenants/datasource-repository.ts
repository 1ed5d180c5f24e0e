import type { Collection, Db, ObjectId } from "mongodb";
import {
  type ClientRef,
  ownedBy,
  type RecordScope,
  scopeFilter,
} from "../clients/client-secrets-repository.js";
import type { SecretBox } from "../crypto/secret-box.js";

export const CLIENT_DATASOURCES_COLLECTION = "client_datasources";

/** A tenant's database: the URI is a ciphertext (it holds a password); the database name is not secret. */
export interface DatasourceDocument {
  _id?: ObjectId;
  clientCode: string;
  /** The client record it belongs to (see ClientSecretsRepository). */
  clientId?: ObjectId;
  dbUri: string;
  dbName: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface DatasourceRepository {
  readonly datasources: Collection<DatasourceDocument>;
  ensureIndexes(): Promise<void>;
  /**
   * Bound to the client record (see ClientSecretsRepository.upsert); given only a code (seeding, tests),
   * the document is not bound and counts as whichever client holds the code.
   */
  save(client: ClientRef | string, dbUri: string, dbName: string): Promise<void>;
  /** The decrypted URI and database name, or null when none is registered. */
  findUri(clientCode: string): Promise<{ uri: string; dbName: string } | null>;
  findDbName(clientCode: string): Promise<string | null>;
  /**
   * Other clients' datasources whose database has this name (compared without case), with their URIs
   * decrypted (null when no configured key can read one): to tell whether a database is taken.
   */
  findOthersUsingDatabase(
    dbName: string,
    exceptClientCode: string,
  ): Promise<Array<{ clientCode: string; uri: string | null }>>;
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
  const findUri = async (clientCode: string) => {
    const doc = await datasources.findOne({ clientCode });
    if (!doc) return null;
    return { uri: crypto.decrypt(doc.dbUri, { clientCode, field: "dbUri" }), dbName: doc.dbName };
  };
  return {
    datasources,
    async ensureIndexes() {
      await datasources.createIndexes([{ key: { clientCode: 1 }, name: "clientCode_unique", unique: true }]);
    },
    async save(client, dbUri, dbName) {
      const now = new Date();
      const clientCode = typeof client === "string" ? client : client.clientCode;
      await datasources.updateOne(
        typeof client === "string" ? { clientCode } : ownedBy(client),
        {
          $set: {
            dbUri: crypto.encrypt(dbUri, { clientCode, field: "dbUri" }),
            dbName,
            ...(typeof client === "string" ? {} : { clientId: client._id }),
            updatedAt: now,
          },
          $setOnInsert: { clientCode, createdAt: now },
        },
        { upsert: true },
      );
    },
    findUri,
    async listClientCodes() {
      const docs = await datasources
        .find({}, { projection: { clientCode: 1 }, sort: { clientCode: 1 } })
        .toArray();
      return docs.map((doc) => doc.clientCode);
    },
    async findDbName(clientCode) {
      const doc = await datasources.findOne({ clientCode }, { projection: { dbName: 1 } });
      return doc?.dbName ?? null;
    },
    async findOthersUsingDatabase(dbName, exceptClientCode) {
      // Few documents (one per client) and a case-insensitive match the embedded server has no collation
      // for: names are read and compared here, and only matching URIs are decrypted.
      const lower = dbName.toLowerCase();
      const names = await datasources
        .find({ clientCode: { $ne: exceptClientCode } }, { projection: { clientCode: 1, dbName: 1 } })
        .toArray();
      const matches = names.filter((doc) => doc.dbName.toLowerCase() === lower);
      return Promise.all(
        matches.map(async ({ clientCode }) => {
          try {
            return { clientCode, uri: (await findUri(clientCode))?.uri ?? null };
          } catch {
            return { clientCode, uri: null };
          }
        }),
      );
    },
    async delete(clientCode, scope = {}) {
      const filter = scopeFilter(clientCode, scope);
      return (await datasources.deleteMany(filter)).deletedCount;
    },
  };
}

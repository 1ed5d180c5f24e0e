import type { Collection, Db, Filter, ObjectId } from "mongodb";

/** A client record's identity: its code and its immutable `_id`. */
export interface ClientRef {
  clientCode: string;
  _id: ObjectId;
}

/**
 * Which documents of a code a delete removes: all (offboarding), all but `keep`'s (a code created again:
 * what an earlier client left), or only `only`'s (undoing a write that raced an offboarding).
 */
export interface RecordScope {
  keep?: ObjectId;
  only?: ObjectId;
}

export function scopeFilter(clientCode: string, scope: RecordScope): Record<string, unknown> {
  if (scope.only) return { clientCode, clientId: scope.only };
  if (scope.keep) return { clientCode, clientId: { $ne: scope.keep } };
  return { clientCode };
}

/** Documents of this client record; documents written before the binding (no clientId) count as its. */
export function ownedBy<T extends { clientCode: string; clientId?: ObjectId }>(client: ClientRef): Filter<T> {
  return {
    clientCode: client.clientCode,
    $or: [{ clientId: client._id }, { clientId: { $exists: false } }],
  } as Filter<T>;
}

export const CLIENT_SECRETS_COLLECTION = "client_secrets";

/** One document per client; each secret field holds a ciphertext (see crypto/secret-box.ts). */
export type ClientSecretsDocument = {
  _id?: ObjectId;
  clientCode: string;
  /** The client record these belong to: a later client with the same code never reads them. */
  clientId?: ObjectId;
  createdAt: Date;
  updatedAt: Date;
} & Record<string, unknown>;

export interface ClientSecretsRepository {
  readonly secrets: Collection<ClientSecretsDocument>;
  ensureIndexes(): Promise<void>;
  /** The secrets of this client record (not of an earlier client that had the same code). */
  find(client: ClientRef): Promise<ClientSecretsDocument | null>;
  /** Sets the given ciphertexts, leaving other fields as they are (partial update). */
  upsert(client: ClientRef, ciphertexts: Record<string, string>): Promise<ClientSecretsDocument>;
  /** Every secrets document of the code (offboarding), or as `scope` says. */
  delete(clientCode: string, scope?: RecordScope): Promise<number>;
}

export function createClientSecretsRepository({ db }: { db: Db }): ClientSecretsRepository {
  const secrets = db.collection<ClientSecretsDocument>(CLIENT_SECRETS_COLLECTION);
  return {
    secrets,
    async ensureIndexes() {
      await secrets.createIndexes([{ key: { clientCode: 1 }, name: "clientCode_unique", unique: true }]);
    },
    find(client) {
      return secrets.findOne(ownedBy(client));
    },
    async upsert(client, ciphertexts) {
      const now = new Date();
      // Bound to the client record: a write that races an offboarding (and a re-created code) cannot
      // update the new client's document (the filter names the old id; the unique code index refuses
      // the insert), and what it leaves is not the new client's (reads are bound the same way).
      const doc = await secrets.findOneAndUpdate(
        ownedBy(client),
        {
          $set: { ...ciphertexts, clientId: client._id, updatedAt: now },
          $setOnInsert: { clientCode: client.clientCode, createdAt: now },
        },
        { upsert: true, returnDocument: "after" },
      );
      return doc as ClientSecretsDocument;
    },
    async delete(clientCode, scope = {}) {
      const filter = scopeFilter(clientCode, scope);
      return (await secrets.deleteMany(filter)).deletedCount;
    },
  };
}

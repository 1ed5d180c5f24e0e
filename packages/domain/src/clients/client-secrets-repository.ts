import type { Collection, Db, ObjectId } from "mongodb";

export const CLIENT_SECRETS_COLLECTION = "client_secrets";

/** One document per client; each secret field holds a ciphertext (see crypto/secret-box.ts). */
export type ClientSecretsDocument = {
  _id?: ObjectId;
  clientCode: string;
  createdAt: Date;
  updatedAt: Date;
} & Record<string, unknown>;

export interface ClientSecretsRepository {
  readonly secrets: Collection<ClientSecretsDocument>;
  ensureIndexes(): Promise<void>;
  find(clientCode: string): Promise<ClientSecretsDocument | null>;
  /** Sets the given ciphertexts, leaving other fields as they are (partial update). */
  upsert(clientCode: string, ciphertexts: Record<string, string>): Promise<ClientSecretsDocument>;
  delete(clientCode: string): Promise<number>;
}

export function createClientSecretsRepository({ db }: { db: Db }): ClientSecretsRepository {
  const secrets = db.collection<ClientSecretsDocument>(CLIENT_SECRETS_COLLECTION);
  return {
    secrets,
    async ensureIndexes() {
      await secrets.createIndexes([{ key: { clientCode: 1 }, name: "clientCode_unique", unique: true }]);
    },
    find(clientCode) {
      return secrets.findOne({ clientCode });
    },
    async upsert(clientCode, ciphertexts) {
      const now = new Date();
      const doc = await secrets.findOneAndUpdate(
        { clientCode },
        { $set: { ...ciphertexts, updatedAt: now }, $setOnInsert: { clientCode, createdAt: now } },
        { upsert: true, returnDocument: "after" },
      );
      return doc as ClientSecretsDocument;
    },
    async delete(clientCode) {
      return (await secrets.deleteMany({ clientCode })).deletedCount;
    },
  };
}

import { conflict, isDuplicateKeyError } from "@ecodrix/platform";
import type { Collection, Db, UpdateFilter } from "mongodb";
import type { ClientDocument, ClientStatus } from "./client-types.js";

export const CLIENTS_COLLECTION = "clients";

export interface ClientRepository {
  readonly clients: Collection<ClientDocument>;
  ensureIndexes(): Promise<void>;
  /** Throws a 409 naming the code when it is taken. */
  insert(client: ClientDocument): Promise<void>;
  findByCode(clientCode: string): Promise<ClientDocument | null>;
  list(): Promise<ClientDocument[]>;
  update(
    clientCode: string,
    changes: Partial<Pick<ClientDocument, "name" | "email" | "status" | "defaultCountry">>,
  ): Promise<ClientDocument | null>;
  /** Sets (or, with null, removes) an integration status field; false when the client does not exist. */
  setStatusField(clientCode: string, field: `${string}Status`, value: string | null): Promise<boolean>;
  /**
   * Replaces the key hash if it is still `previousHash` (compare-and-set: of concurrent rotations exactly
   * one wins); false when the client is gone or its key changed meanwhile. The old key stops matching as
   * soon as this returns.
   */
  replaceApiKey(
    clientCode: string,
    previousHash: string,
    apiKeyHash: string,
    apiKeyHint: string,
  ): Promise<boolean>;
  delete(clientCode: string): Promise<boolean>;
}

export function clientCodeTaken(clientCode: string) {
  return conflict("ECODRIX_CLIENT_CODE_TAKEN", `ClientCode ${clientCode} already exists`);
}

export function createClientRepository({ db }: { db: Db }): ClientRepository {
  const clients = db.collection<ClientDocument>(CLIENTS_COLLECTION);
  return {
    clients,
    async ensureIndexes() {
      await clients.createIndexes([
        { key: { clientCode: 1 }, name: "clientCode_unique", unique: true },
        { key: { apiKeyHash: 1 }, name: "apiKeyHash_unique", unique: true },
      ]);
    },
    async insert(client) {
      try {
        await clients.insertOne(client);
      } catch (error) {
        if (isDuplicateKeyError(error)) throw clientCodeTaken(client.clientCode);
        throw error;
      }
    },
    findByCode(clientCode) {
      return clients.findOne({ clientCode });
    },
    list() {
      return clients.find({}).sort({ clientCode: 1 }).toArray();
    },
    update(clientCode, changes) {
      return clients.findOneAndUpdate(
        { clientCode },
        { $set: { ...changes, updatedAt: new Date() } },
        { returnDocument: "after" },
      );
    },
    async setStatusField(clientCode, field, value) {
      const now = new Date();
      const update: UpdateFilter<ClientDocument> =
        value === null
          ? { $unset: { [field]: "" }, $set: { updatedAt: now } }
          : { $set: { updatedAt: now, [field]: value } as Partial<ClientDocument> };
      return (await clients.updateOne({ clientCode }, update)).matchedCount === 1;
    },
    async replaceApiKey(clientCode, previousHash, apiKeyHash, apiKeyHint) {
      const now = new Date();
      const result = await clients.updateOne(
        { clientCode, apiKeyHash: previousHash },
        { $set: { apiKeyHash, apiKeyHint, apiKeyCreatedAt: now, updatedAt: now } },
      );
      return result.matchedCount === 1;
    },
    async delete(clientCode) {
      return (await clients.deleteOne({ clientCode })).deletedCount === 1;
    },
  };
}

export type { ClientStatus };

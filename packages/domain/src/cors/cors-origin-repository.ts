import { conflict, isDuplicateKeyError, notFound } from "@ecodrix/platform";
import type { Collection, Db, ObjectId } from "mongodb";
import { normalizeOrigin, tryNormalizeOrigin } from "./cors-origin.js";

export const CORS_ORIGINS_COLLECTION = "cors_origins";

export interface CorsOriginDocument {
  _id?: ObjectId;
  clientCode: string;
  origin: string;
  createdAt: Date;
}

export interface CorsOriginRepository {
  readonly origins: Collection<CorsOriginDocument>;
  ensureIndexes(): Promise<void>;
  /** Registers an origin for the client; `created: false` when it was already registered. */
  add(clientCode: string, url: string): Promise<{ origin: string; created: boolean }>;
  list(clientCode: string): Promise<string[]>;
  /** Removes one of the client's own origins; 404 when this client has not registered it. */
  remove(clientCode: string, url: string): Promise<string>;
  removeAll(clientCode: string): Promise<number>;
  /** True when any client registered this origin (one indexed lookup; no cache, so changes apply at once). */
  isAllowed(origin: string | undefined): Promise<boolean>;
  /** True when this client registered this origin (one indexed lookup, no cache). */
  isAllowedFor(clientCode: string, origin: string | undefined): Promise<boolean>;
}

/** CORS origins one client may register: a browser app needs a handful; 1,000 is not a use case. */
export const MAX_CORS_ORIGINS_PER_CLIENT = 50;

function tooManyOrigins(clientCode: string) {
  return conflict(
    "ECODRIX_CORS_ORIGIN_LIMIT",
    `${clientCode} already has ${MAX_CORS_ORIGINS_PER_CLIENT} CORS origins, the most a client may register: remove one first (DELETE /api/saas/cors?url=…)`,
  );
}

export function createCorsOriginRepository({ db }: { db: Db }): CorsOriginRepository {
  const origins = db.collection<CorsOriginDocument>(CORS_ORIGINS_COLLECTION);
  return {
    origins,
    async ensureIndexes() {
      await origins.createIndexes([
        { key: { clientCode: 1, origin: 1 }, name: "client_origin_unique", unique: true },
        { key: { origin: 1 }, name: "origin" },
      ]);
    },
    async add(clientCode, url) {
      const origin = normalizeOrigin(url);
      if (await origins.findOne({ clientCode, origin }, { projection: { _id: 1 } })) {
        return { origin, created: false };
      }
      if ((await origins.countDocuments({ clientCode })) >= MAX_CORS_ORIGINS_PER_CLIENT) {
        throw tooManyOrigins(clientCode);
      }
      try {
        const result = await origins.updateOne(
          { clientCode, origin },
          { $setOnInsert: { clientCode, origin, createdAt: new Date() } },
          { upsert: true },
        );
        const created = result.upsertedCount === 1;
        // Concurrent adds can all pass the count above: the ones that took the total over the cap undo
        // their own insert (at worst a race leaves the client a little under the cap, never over it).
        if (created && (await origins.countDocuments({ clientCode })) > MAX_CORS_ORIGINS_PER_CLIENT) {
          await origins.deleteOne({ clientCode, origin });
          throw tooManyOrigins(clientCode);
        }
        return { origin, created };
      } catch (error) {
        // Two concurrent upserts of the same origin: the other one won, which is what we wanted.
        if (isDuplicateKeyError(error)) return { origin, created: false };
        throw error;
      }
    },
    async list(clientCode) {
      const docs = await origins.find({ clientCode }).sort({ origin: 1 }).toArray();
      return docs.map((doc) => doc.origin);
    },
    async remove(clientCode, url) {
      const origin = normalizeOrigin(url, "querystring/url");
      const result = await origins.deleteOne({ clientCode, origin });
      if (result.deletedCount === 0) {
        throw notFound(
          "ECODRIX_CORS_ORIGIN_NOT_FOUND",
          `Origin ${origin} is not registered for ${clientCode}`,
        );
      }
      return origin;
    },
    async removeAll(clientCode) {
      return (await origins.deleteMany({ clientCode })).deletedCount;
    },
    async isAllowedFor(clientCode, origin) {
      const normalized = tryNormalizeOrigin(origin);
      if (!normalized) return false;
      return (await origins.findOne({ clientCode, origin: normalized }, { projection: { _id: 1 } })) !== null;
    },
    async isAllowed(origin) {
      const normalized = tryNormalizeOrigin(origin);
      if (!normalized) return false;
      return (await origins.findOne({ origin: normalized }, { projection: { _id: 1 } })) !== null;
    },
  };
}

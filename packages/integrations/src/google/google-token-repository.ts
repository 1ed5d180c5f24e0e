import type { SecretBox } from "@ecodrix/domain";
import type { Collection, Db, ObjectId } from "mongodb";
import { GOOGLE_TOKENS_COLLECTION } from "./google-capability.js";

/**
 * One client's Google connection, in the central database (`google_tokens`). The refresh token is
 * an `ecx1:` ciphertext bound to the client and the field `refreshToken` (so key rotation re-encrypts
 * it and it cannot be moved to another client).
 */
export interface GoogleTokenDocument {
  _id?: ObjectId;
  clientCode: string;
  /** The connected Google account, from the userinfo endpoint. */
  email: string;
  refreshToken: string;
  scopes: string[];
  /** `reconnect_required`: Google refused the refresh token (`invalid_grant`); a new connection clears it. */
  status: "connected" | "reconnect_required";
  connectedAt: Date;
  updatedAt: Date;
}

/** What may be shown of a connection: never the token. */
export interface GoogleConnectionView {
  email: string;
  connectedAt: Date;
  status: GoogleTokenDocument["status"];
}

export interface GoogleTokenRepository {
  ensureIndexes(): Promise<void>;
  /**
   * Stores a new connection (replacing any earlier one) and returns the earlier refresh token, decrypted,
   * so the caller can revoke it.
   */
  save(
    clientCode: string,
    connection: { email: string; refreshToken: string; scopes: string[] },
  ): Promise<{ previousRefreshToken: string | undefined }>;
  find(clientCode: string): Promise<GoogleConnectionView | null>;
  /** The decrypted refresh token with its account (worker, revocation). Never in a response or a log. */
  credentials(
    clientCode: string,
  ): Promise<{ refreshToken: string; email: string; status: GoogleTokenDocument["status"] } | null>;
  markReconnectRequired(clientCode: string): Promise<boolean>;
  /** Removes the connection; returns its refresh token, decrypted, for revocation (null when there was none). */
  delete(clientCode: string): Promise<{ refreshToken: string; email: string } | null>;
}

const FIELD = "refreshToken";

export function createGoogleTokenRepository(deps: {
  db: Db;
  crypto: Pick<SecretBox, "encrypt" | "decrypt">;
}): GoogleTokenRepository {
  const tokens: Collection<GoogleTokenDocument> = deps.db.collection(GOOGLE_TOKENS_COLLECTION);
  const decrypt = (doc: GoogleTokenDocument) =>
    deps.crypto.decrypt(doc.refreshToken, { clientCode: doc.clientCode, field: FIELD });

  return {
    async ensureIndexes() {
      await tokens.createIndex({ clientCode: 1 }, { name: "clientCode_unique", unique: true });
    },

    async save(clientCode, connection) {
      const now = new Date();
      const previous = await tokens.findOneAndUpdate(
        { clientCode },
        {
          $set: {
            email: connection.email,
            refreshToken: deps.crypto.encrypt(connection.refreshToken, { clientCode, field: FIELD }),
            scopes: connection.scopes,
            status: "connected",
            connectedAt: now,
            updatedAt: now,
          },
          $setOnInsert: { clientCode },
        },
        { upsert: true, returnDocument: "before" },
      );
      let previousRefreshToken: string | undefined;
      if (previous) {
        try {
          previousRefreshToken = decrypt(previous);
        } catch {
          // Unreadable under the configured keys: nothing to revoke from here.
        }
      }
      return { previousRefreshToken };
    },

    async find(clientCode) {
      const doc = await tokens.findOne({ clientCode });
      return doc ? { email: doc.email, connectedAt: doc.connectedAt, status: doc.status } : null;
    },

    async credentials(clientCode) {
      const doc = await tokens.findOne({ clientCode });
      return doc ? { refreshToken: decrypt(doc), email: doc.email, status: doc.status } : null;
    },

    async markReconnectRequired(clientCode) {
      const result = await tokens.updateOne(
        { clientCode },
        { $set: { status: "reconnect_required", updatedAt: new Date() } },
      );
      return result.matchedCount === 1;
    },

    async delete(clientCode) {
      const doc = await tokens.findOneAndDelete({ clientCode });
      if (!doc) return null;
      try {
        return { refreshToken: decrypt(doc), email: doc.email };
      } catch {
        return { refreshToken: "", email: doc.email };
      }
    },
  };
}

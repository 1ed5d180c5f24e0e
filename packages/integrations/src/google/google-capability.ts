import { defineCapability } from "@ecodrix/domain";

/** Google OAuth refresh tokens (encrypted), one document per client, in the central database. */
export const GOOGLE_TOKENS_COLLECTION = "google_tokens";

/**
 * Google Meet: the client's OAuth token, removed at offboarding and re-encrypted by key rotation, and
 * `googleStatus: "reconnect_required"` on the client when Google refuses the token (shown on
 * `GET /api/clients/:code`, cleared by a new connection).
 */
export const googleCapability = defineCapability({
  name: "google",
  encryptedCollections: [GOOGLE_TOKENS_COLLECTION],
  clientStatusFields: {
    googleStatus: {
      values: ["reconnect_required"],
      description:
        "reconnect_required: Google refused the client's Calendar access (invalid_grant); connect it again (runbook §1 step 4)",
    },
  },
  offboard: [
    {
      name: "googleTokens",
      run: async (clientCode, db) =>
        (await db.collection(GOOGLE_TOKENS_COLLECTION).deleteMany({ clientCode })).deletedCount,
    },
  ],
});

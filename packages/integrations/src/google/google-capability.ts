import { defineCapability } from "@ecodrix/domain";

/** Google OAuth refresh tokens (encrypted), one document per client, in the central database. */
export const GOOGLE_TOKENS_COLLECTION = "google_tokens";

/** Google Meet: the client's OAuth token, removed at offboarding and re-encrypted by key rotation. */
export const googleCapability = defineCapability({
  name: "google",
  encryptedCollections: [GOOGLE_TOKENS_COLLECTION],
  offboard: [
    {
      name: "googleTokens",
      run: async (clientCode, db) =>
        (await db.collection(GOOGLE_TOKENS_COLLECTION).deleteMany({ clientCode })).deletedCount,
    },
  ],
});

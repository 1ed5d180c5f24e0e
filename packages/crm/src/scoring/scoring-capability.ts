import { defineCapability } from "@ecodrix/domain";
import { LEADS_COLLECTION } from "./score-writes.js";

/**
 * Lead scoring's part of the tenant database. The rules live in `scoring_rules` (one document, read by
 * `_id`: no index needed). On `leads`, the unique `score_fence` index serves the compare-and-set of
 * every score write (`{ _id, scoreUpdatedAt }`, see scoreFence): on MongoDB the `_id` index would do,
 * but the embedded server uses an index only for a query with exactly its keys, and would otherwise scan
 * the collection once per write.
 */
export const scoringCapability = defineCapability({
  name: "scoring",
  tenantIndexes: [
    {
      collection: LEADS_COLLECTION,
      indexes: [{ key: { _id: 1, scoreUpdatedAt: 1 }, name: "score_fence", unique: true }],
    },
  ],
});

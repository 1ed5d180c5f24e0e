import { defineCapability } from "@ecodrix/domain";
import { LEADS_COLLECTION } from "./lead-types.js";

/** Leads: one per phone number per tenant; listed newest first, filtered by stage, tag, score, prefix. */
export const leadsCapability = defineCapability({
  name: "crm-leads",
  tenantIndexes: [
    {
      collection: LEADS_COLLECTION,
      indexes: [
        { key: { phone: 1 }, name: "phone_unique", unique: true },
        { key: { stage: 1, _id: -1 }, name: "stage" },
        { key: { tags: 1, _id: -1 }, name: "tags" },
        { key: { score: -1, _id: -1 }, name: "score" },
        { key: { nameLower: 1 }, name: "name_prefix" },
        { key: { email: 1 }, name: "email" },
        // The PATCH's compare-and-set ({ _id, updatedAt }), for the embedded server (see appointments).
        { key: { _id: 1, updatedAt: 1 }, name: "update_fence", unique: true },
      ],
    },
  ],
});

import { defineCapability } from "@ecodrix/domain";
import { LEAD_EVENTS_COLLECTION } from "./lead-event-types.js";

/** Lead timelines: read newest first per lead; lead scoring counts events by type within days. */
export const leadEventsCapability = defineCapability({
  name: "crm-lead-events",
  tenantIndexes: [
    {
      collection: LEAD_EVENTS_COLLECTION,
      indexes: [
        { key: { leadId: 1, at: -1, _id: -1 }, name: "lead_timeline" },
        { key: { leadId: 1, type: 1, at: -1 }, name: "lead_type_at" },
      ],
    },
  ],
});

import { defineCapability } from "@ecodrix/domain";
import { APPOINTMENTS_COLLECTION } from "./appointment-types.js";

/** Appointments: listed by time (a calendar), per lead, per status. */
export const appointmentsCapability = defineCapability({
  name: "crm-appointments",
  tenantIndexes: [
    {
      collection: APPOINTMENTS_COLLECTION,
      indexes: [
        { key: { startsAt: 1, _id: 1 }, name: "calendar" },
        { key: { leadId: 1, startsAt: 1 }, name: "lead" },
        { key: { status: 1, startsAt: 1 }, name: "status" },
        // The status change's compare-and-set ({ _id, status }): on MongoDB the _id index serves it; the
        // embedded server uses an index only for a query with exactly its keys.
        { key: { _id: 1, status: 1 }, name: "transition_fence", unique: true },
      ],
    },
  ],
});

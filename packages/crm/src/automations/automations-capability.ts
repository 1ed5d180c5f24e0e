import { defineCapability } from "@ecodrix/domain";
import { AUTOMATION_RUNS_COLLECTION, AUTOMATIONS_COLLECTION } from "./automation-types.js";

/**
 * Automations (matched by enabled trigger on every event) and their runs (one per automation and
 * event: the unique index is what makes a retried event job start no second run).
 */
export const automationsCapability = defineCapability({
  name: "crm-automations",
  tenantIndexes: [
    {
      collection: AUTOMATIONS_COLLECTION,
      indexes: [{ key: { enabled: 1, trigger: 1 }, name: "enabled_trigger" }],
    },
    {
      collection: AUTOMATION_RUNS_COLLECTION,
      indexes: [
        { key: { eventId: 1, automationId: 1 }, name: "event_automation_unique", unique: true },
        { key: { automationId: 1, _id: -1 }, name: "automation_runs" },
        { key: { appointmentId: 1 }, name: "appointment" },
        { key: { leadId: 1 }, name: "lead" },
      ],
    },
  ],
});

import { randomBytes } from "node:crypto";
import { defineCapability } from "@ecodrix/domain";

/** The tenant collection of outgoing webhook subscriptions (`/api/saas/webhooks`). */
export const WEBHOOK_SUBSCRIPTIONS_COLLECTION = "webhook_subscriptions";

/**
 * Signed outgoing webhooks: the signing secret (generated at the first secrets write when not given) and
 * the tenant collection of subscriptions. Offboarding needs no step of its own: pending deliveries are
 * cancelled with the client's other jobs, and subscriptions are stamped with their client's creation
 * time, so a later client re-using the code never sees nor delivers to them (they go with the tenant
 * database, dropped by hand: runbook §10 step 3).
 */
export const webhooksCapability = defineCapability({
  name: "webhooks",
  secretFields: {
    automationWebhookSecret: {
      type: "string",
      schema: { type: "string", pattern: "^[0-9a-fA-F]{32,256}$" },
      description: "HMAC key of outgoing webhook signatures (hex); generated and shown once when absent",
      generateIfAbsent: () => randomBytes(32).toString("hex"),
    },
  },
  tenantIndexes: [
    {
      collection: WEBHOOK_SUBSCRIPTIONS_COLLECTION,
      indexes: [
        // The fan-out: a client's enabled subscriptions to one event type.
        { key: { enabled: 1, events: 1 }, name: "enabled_events" },
        { key: { ownerCreatedAt: 1, _id: 1 }, name: "owner_id" },
        // One subscription per slot (0 to MAX_WEBHOOK_SUBSCRIPTIONS - 1): the per-client limit holds under
        // concurrent creates, since two cannot take the same slot.
        { key: { ownerCreatedAt: 1, slot: 1 }, name: "owner_slot", unique: true },
      ],
    },
  ],
});

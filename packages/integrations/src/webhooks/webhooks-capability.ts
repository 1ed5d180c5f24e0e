import { randomBytes } from "node:crypto";
import { defineCapability } from "@ecodrix/domain";

/** Signed outgoing webhooks: the signing secret, generated at the first secrets write when not given. */
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
});

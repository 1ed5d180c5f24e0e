import { defineCapability } from "@ecodrix/domain";

const secretText = { type: "string", minLength: 1, maxLength: 4096 } as const;
const graphId = { type: "string", minLength: 1, maxLength: 100 } as const;

/** WhatsApp Cloud API: the client's secret fields (runbook §1 step 2). */
export const whatsappCapability = defineCapability({
  name: "whatsapp",
  secretFields: {
    whatsappToken: { type: "string", schema: secretText, description: "Graph API access token" },
    whatsappBusinessId: { type: "string", schema: graphId, description: "WhatsApp Business Account id" },
    whatsappPhoneNumberId: {
      type: "string",
      schema: graphId,
      description: "Phone number id messages are sent from",
    },
    whatsappWebhookToken: {
      type: "string",
      schema: secretText,
      description: "Verify token of Meta's webhook handshake",
    },
  },
});

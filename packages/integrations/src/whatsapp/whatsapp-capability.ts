import { defineCapability } from "@ecodrix/domain";

const secretText = { type: "string", minLength: 1, maxLength: 4096 } as const;
const graphId = { type: "string", minLength: 1, maxLength: 100 } as const;

/** The tenant collection of synced templates (`whatsapp_template_sync`); the CRM reads it by this name. */
export const WHATSAPP_TEMPLATES_COLLECTION = "whatsapp_templates";
/** The tenant collection of inbound messages (from the webhook), one document per wamid. */
export const WHATSAPP_INBOUND_COLLECTION = "whatsapp_inbound";

/**
 * WhatsApp Cloud API: the client's secret fields (runbook §1 step 2), its tenant collections, and
 * `whatsappStatus: "invalid_token"` when Meta refuses the token (shown on `GET /api/clients/:code`,
 * cleared by new WhatsApp secrets).
 */
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
    whatsappAppSecret: {
      type: "string",
      schema: secretText,
      description: "Meta app secret: verifies the X-Hub-Signature-256 of inbound webhooks",
    },
  },
  clientStatusFields: {
    whatsappStatus: {
      values: ["invalid_token"],
      description:
        "invalid_token: Meta refused the client's WhatsApp token (error 190 or another auth/permission error); set new WhatsApp secrets (runbook §1 step 2)",
      clearedBySecrets: ["whatsappToken", "whatsappPhoneNumberId", "whatsappBusinessId"],
    },
  },
  tenantIndexes: [
    {
      collection: WHATSAPP_TEMPLATES_COLLECTION,
      indexes: [
        { key: { name: 1, language: 1 }, name: "name_language", unique: true },
        { key: { status: 1, name: 1 }, name: "status_name" },
      ],
    },
    {
      collection: WHATSAPP_INBOUND_COLLECTION,
      indexes: [
        { key: { wamid: 1 }, name: "wamid", unique: true },
        { key: { from: 1, receivedAt: -1 }, name: "from_receivedAt" },
      ],
    },
  ],
});

import { jobContract } from "@ecodrix/queue";
import { Type } from "@sinclair/typebox";
import { integrationContextSchema } from "../integration-context.js";

/** `send_whatsapp`: one template message through the client's WhatsApp Business number. */
export const sendWhatsappContract = jobContract({
  type: "send_whatsapp",
  payload: Type.Object(
    {
      /** E.164 with the leading `+`. */
      to: Type.String({ pattern: "^\\+[1-9][0-9]{6,14}$" }),
      templateName: Type.String({ minLength: 1, maxLength: 512 }),
      language: Type.String({ minLength: 2, maxLength: 20 }),
      bodyParams: Type.Optional(Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 100 })),
      headerParams: Type.Optional(Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 10 })),
      context: Type.Optional(integrationContextSchema),
    },
    { additionalProperties: false },
  ),
});

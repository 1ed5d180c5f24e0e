import { jobContract } from "@ecodrix/queue";
import { Type } from "@sinclair/typebox";
import { integrationContextSchema } from "../integration-context.js";

/** `send_email`: one e-mail through the client's SMTP server. */
export const sendEmailContract = jobContract({
  type: "send_email",
  payload: Type.Object(
    {
      to: Type.String({ minLength: 3, maxLength: 320 }),
      subject: Type.String({ minLength: 1, maxLength: 998 }),
      text: Type.Optional(Type.String({ maxLength: 100_000 })),
      html: Type.Optional(Type.String({ maxLength: 100_000 })),
      context: Type.Optional(integrationContextSchema),
    },
    { additionalProperties: false },
  ),
});

import { integrationContextSchema } from "@ecodrix/integrations";
import { jobContract } from "@ecodrix/queue";
import { Type } from "@sinclair/typebox";

const tag = Type.String({ minLength: 1, maxLength: 60 });

/** `update_lead`: an automation's `update_lead` action, run by the worker like any other action. */
export const updateLeadContract = jobContract({
  type: "update_lead",
  payload: Type.Object(
    {
      leadId: Type.String({ pattern: "^[0-9a-f]{24}$" }),
      stage: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
      addTags: Type.Optional(Type.Array(tag, { maxItems: 50 })),
      removeTags: Type.Optional(Type.Array(tag, { maxItems: 50 })),
      /** The depth of the event whose automation runs this action: the events it fires are one deeper. */
      depth: Type.Integer({ minimum: 0 }),
      context: integrationContextSchema,
    },
    { additionalProperties: false },
  ),
});

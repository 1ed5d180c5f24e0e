import { defineCapability } from "@ecodrix/domain";

/** The tenant collection of every outgoing message (WhatsApp, e-mail): one document per sending job. */
export const MESSAGE_LOG_COLLECTION = "message_log";

/** The shared message log's tenant indexes (unique on the job id: one document per send). */
export const messageLogCapability = defineCapability({
  name: "message-log",
  tenantIndexes: [
    {
      collection: MESSAGE_LOG_COLLECTION,
      indexes: [
        { key: { jobId: 1 }, name: "jobId", unique: true },
        {
          key: { providerMessageId: 1 },
          name: "providerMessageId",
          partialFilterExpression: { providerMessageId: { $type: "string" } },
        },
        { key: { channel: 1, _id: -1 }, name: "channel_id" },
        { key: { channel: 1, to: 1, _id: -1 }, name: "channel_to_id" },
        { key: { channel: 1, status: 1, _id: -1 }, name: "channel_status_id" },
      ],
    },
  ],
});

import { type Collection, type Db, type Filter, ObjectId } from "mongodb";
import type { IntegrationContext } from "../integration-context.js";
import { MESSAGE_LOG_COLLECTION } from "./message-log-capability.js";

/**
 * A message's state. `queued` (not yet sent, or sent and refused with a retryable error) and `sending`
 * (a request to the provider is in flight) are ours; the rest are the provider's, in rank order
 * accepted < sent < delivered < read, and `failed`, which is final.
 */
export type MessageStatus = "queued" | "sending" | "accepted" | "sent" | "delivered" | "read" | "failed";
export const MESSAGE_STATUSES: readonly MessageStatus[] = [
  "queued",
  "sending",
  "accepted",
  "sent",
  "delivered",
  "read",
  "failed",
];
/** The statuses a provider reports after acceptance (a WhatsApp status webhook). */
export type DeliveryStatus = "sent" | "delivered" | "read" | "failed";

const RANK: Record<Exclude<MessageStatus, "failed">, number> = {
  queued: 0,
  sending: 1,
  accepted: 2,
  sent: 3,
  delivered: 4,
  read: 5,
};

export interface MessageError {
  at: Date;
  /** The provider's code (Meta's `error.code`, an SMTP reply code) or ours. */
  code: string;
  message: string;
}

/** One outgoing message, one per sending job (unique on `jobId`), in the tenant database. */
export interface MessageLogDocument {
  _id: ObjectId;
  jobId: string;
  channel: "whatsapp" | "email";
  to: string;
  templateName?: string;
  language?: string;
  subject?: string;
  /** The provider's id: the WhatsApp `wamid`, the e-mail `Message-ID`; null until accepted. */
  providerMessageId: string | null;
  status: MessageStatus;
  statusAt: Date;
  /** While `sending`: when the attempt's request is over for sure (answered or timed out). */
  sendingUntil: Date | null;
  errors: MessageError[];
  context?: IntegrationContext;
  createdAt: Date;
}

export type NewMessage = Pick<MessageLogDocument, "jobId" | "channel" | "to"> &
  Partial<Pick<MessageLogDocument, "templateName" | "language" | "subject" | "context">>;

export interface MessageListQuery {
  channel: MessageLogDocument["channel"];
  to?: string;
  status?: MessageStatus;
  limit: number;
  /** The `_id` of the last message of the previous page (its `nextCursor`). */
  cursor?: string;
}

export interface MessageLog {
  collection: Collection<MessageLogDocument>;
  /** The job's document, created `queued` if it does not exist yet (a retry finds the earlier one). */
  open(message: NewMessage, now: Date): Promise<MessageLogDocument>;
  find(jobId: string): Promise<MessageLogDocument | null>;
  /** queued → sending, only one attempt at a time; null when the document is in another state. */
  claimSend(jobId: string, now: Date, until: Date): Promise<MessageLogDocument | null>;
  /** sending → queued before any request was made (the attempt gave up its turn). */
  release(jobId: string): Promise<void>;
  /** The provider accepted it: its id, status `accepted`. */
  accepted(jobId: string, providerMessageId: string, now: Date): Promise<void>;
  /** The provider refused it for now (nothing was sent): back to `queued`, the error kept. */
  requeue(jobId: string, error: Omit<MessageError, "at">, now: Date): Promise<void>;
  /** Permanently failed (nothing was sent). */
  fail(jobId: string, error: Omit<MessageError, "at">, now: Date): Promise<void>;
  /**
   * A provider status (webhook) by provider id, never backwards in rank; `failed` is final. The updated
   * document, or null when no message has this id or the status would move it backwards.
   */
  applyStatus(
    providerMessageId: string,
    status: DeliveryStatus,
    at: Date,
    error?: Omit<MessageError, "at">,
  ): Promise<MessageLogDocument | null>;
  list(query: MessageListQuery): Promise<{ messages: MessageLogDocument[]; nextCursor: string | null }>;
}

export function messageLogOf(db: Db): MessageLog {
  const collection = db.collection<MessageLogDocument>(MESSAGE_LOG_COLLECTION);
  return {
    collection,
    async open(message, now) {
      const found = await collection
        .findOneAndUpdate(
          { jobId: message.jobId },
          {
            $setOnInsert: {
              ...message,
              providerMessageId: null,
              status: "queued",
              statusAt: now,
              sendingUntil: null,
              errors: [],
              createdAt: now,
            },
          },
          { upsert: true, returnDocument: "after" },
        )
        .catch(async (error: unknown) => {
          // Two attempts raced the upsert: the other one created it.
          const existing = await collection.findOne({ jobId: message.jobId });
          if (!existing) throw error;
          return existing;
        });
      if (!found) throw new Error(`message log entry of job ${message.jobId} was not created`);
      return found;
    },
    find: (jobId) => collection.findOne({ jobId }),
    claimSend: (jobId, now, until) =>
      collection.findOneAndUpdate(
        { jobId, status: "queued" },
        { $set: { status: "sending", statusAt: now, sendingUntil: until } },
        { returnDocument: "after" },
      ),
    async release(jobId) {
      await collection.updateOne(
        { jobId, status: "sending" },
        { $set: { status: "queued", sendingUntil: null } },
      );
    },
    async accepted(jobId, providerMessageId, now) {
      await collection.updateOne(
        { jobId, status: { $in: ["queued", "sending"] } },
        { $set: { providerMessageId, status: "accepted", statusAt: now, sendingUntil: null } },
      );
    },
    async requeue(jobId, error, now) {
      await collection.updateOne(
        { jobId, status: "sending" },
        {
          $set: { status: "queued", statusAt: now, sendingUntil: null },
          $push: { errors: { ...error, at: now } },
        },
      );
    },
    async fail(jobId, error, now) {
      await collection.updateOne(
        { jobId, status: { $in: ["queued", "sending"] } },
        {
          $set: { status: "failed", statusAt: now, sendingUntil: null },
          $push: { errors: { ...error, at: now } },
        },
      );
    },
    async applyStatus(providerMessageId, status, at, error) {
      const filter: Filter<MessageLogDocument> =
        status === "failed"
          ? { providerMessageId, status: { $ne: "failed" } }
          : {
              providerMessageId,
              status: {
                $in: (Object.keys(RANK) as (keyof typeof RANK)[]).filter((name) => RANK[name] < RANK[status]),
              },
            };
      return collection.findOneAndUpdate(
        filter,
        {
          $set: { status, statusAt: at },
          ...(error ? { $push: { errors: { ...error, at } } } : {}),
        },
        { returnDocument: "after" },
      );
    },
    async list(query) {
      const filter: Filter<MessageLogDocument> = { channel: query.channel };
      if (query.to !== undefined) filter.to = query.to;
      if (query.status !== undefined) filter.status = query.status;
      if (query.cursor !== undefined) filter._id = { $lt: new ObjectId(query.cursor) };
      const page = await collection
        .find(filter)
        .sort({ _id: -1 })
        .limit(query.limit + 1)
        .toArray();
      const more = page.length > query.limit;
      const messages = more ? page.slice(0, query.limit) : page;
      return {
        messages,
        nextCursor: more ? String(messages[messages.length - 1]?._id) : null,
      };
    },
  };
}

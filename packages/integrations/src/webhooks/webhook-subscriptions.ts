import { isIP } from "node:net";
import { AppError, badRequest, conflict, notFound } from "@ecodrix/platform";
import { type Collection, type Db, ObjectId } from "mongodb";
import { isNonPublicAddress } from "../outbound/outbound-address.js";
import { WEBHOOK_SUBSCRIPTIONS_COLLECTION } from "./webhooks-capability.js";

/** The event every subscription receives on `POST /api/saas/webhooks/:id/test`, whatever its `events`. */
export const WEBHOOK_TEST_EVENT = "webhook.test";
/**
 * Subscriptions per client. A clinic's apps need a handful; each one multiplies every event's
 * deliveries (and the worker's outgoing requests), so the list stays small.
 */
export const MAX_WEBHOOK_SUBSCRIPTIONS = 20;
export const WEBHOOK_URL_MAX_LENGTH = 2048;
/** Event names: dotted lower-case words, e.g. `automation.action`, `message.status`. */
export const WEBHOOK_EVENT_PATTERN = "^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*){0,4}$";
export const WEBHOOK_EVENT_MAX_LENGTH = 100;
export const MAX_WEBHOOK_EVENTS = 50;

export const WebhookErrorCode = {
  invalidUrl: "ECODRIX_WEBHOOKS_INVALID_URL",
  limit: "ECODRIX_WEBHOOKS_LIMIT",
  notFound: "ECODRIX_WEBHOOKS_NOT_FOUND",
  noSecret: "ECODRIX_WEBHOOKS_NO_SECRET",
  refusedUrl: "ECODRIX_WEBHOOKS_URL_REFUSED",
  unreachable: "ECODRIX_WEBHOOKS_UNREACHABLE",
  rejected: "ECODRIX_WEBHOOKS_REJECTED",
  gone: "ECODRIX_WEBHOOKS_GONE",
  failed: "ECODRIX_WEBHOOKS_ENDPOINT_FAILED",
} as const;

export interface WebhookSubscriptionDocument {
  _id: ObjectId;
  url: string;
  events: string[];
  enabled: boolean;
  /**
   * The creation time of the client record that made it: a client code re-used after offboarding
   * (whose tenant database may still hold these) never sees or delivers to an earlier client's.
   */
  ownerCreatedAt: Date;
  /** Its place among the client's subscriptions (unique per client): what keeps the limit under races. */
  slot: number;
  createdAt: Date;
  updatedAt: Date;
  disabledAt: Date | null;
  disabledReason: string | null;
}

/** A subscription as the API shows it (never the signing secret: that is the client's `automationWebhookSecret`). */
export interface WebhookSubscriptionView {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  disabledAt: string | null;
  disabledReason: string | null;
}

export function webhookSubscriptionView(doc: WebhookSubscriptionDocument): WebhookSubscriptionView {
  return {
    id: String(doc._id),
    url: doc.url,
    events: doc.events,
    enabled: doc.enabled,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
    disabledAt: doc.disabledAt ? doc.disabledAt.toISOString() : null,
    disabledReason: doc.disabledReason,
  };
}

const invalidUrl = (message: string) => badRequest(WebhookErrorCode.invalidUrl, `body/url ${message}`);

/**
 * A subscription URL as stored (normalised by the URL parser), or a 400 naming `url`: https only (http
 * too when private networks are allowed), no credentials, no fragment, and no loopback/private IP
 * literal or `localhost` unless allowed. Host names are checked again on their resolved address at every
 * send (a name can point anywhere later); this early check only spares the client a subscription that
 * could never receive anything.
 */
export function checkWebhookUrl(input: string, options: { allowPrivateNetworks: boolean }): string {
  if (input.length > WEBHOOK_URL_MAX_LENGTH) {
    throw invalidUrl(`must be at most ${WEBHOOK_URL_MAX_LENGTH} characters`);
  }
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw invalidUrl("is not a valid absolute URL");
  }
  const allowed = options.allowPrivateNetworks ? ["https:", "http:"] : ["https:"];
  if (!allowed.includes(url.protocol)) {
    throw invalidUrl(
      options.allowPrivateNetworks
        ? "must be an http or https URL"
        : "must be an https URL (http is accepted only with OUTBOUND_ALLOW_PRIVATE_NETWORKS=true, for tests and the sandbox)",
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw invalidUrl("must not contain credentials (user:password@); verify the signature instead");
  }
  if (url.hash !== "") throw invalidUrl("must not contain a fragment (#…): it is never sent");
  if (!options.allowPrivateNetworks) {
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    const local = host === "localhost" || host.endsWith(".localhost");
    if (local || (isIP(host) !== 0 && isNonPublicAddress(host))) {
      throw invalidUrl(
        "points to a loopback, private or link-local address; refused (OUTBOUND_ALLOW_PRIVATE_NETWORKS=true allows it, for tests and the sandbox)",
      );
    }
  }
  if (url.href.length > WEBHOOK_URL_MAX_LENGTH) {
    throw invalidUrl(`must be at most ${WEBHOOK_URL_MAX_LENGTH} characters`);
  }
  return url.href;
}

export const webhookNotFound = (id: string) =>
  notFound(WebhookErrorCode.notFound, `Webhook subscription ${id} not found`);

/** A 409 for a client without the signing secret: nothing could be signed for it. */
export const webhookSecretMissing = (clientCode: string) =>
  conflict(
    WebhookErrorCode.noSecret,
    `${clientCode} has no automationWebhookSecret: webhooks are signed with it. Set the client's secrets (runbook §1 step 2: a secrets write generates one when absent), then try again`,
  );

export interface WebhookSubscriptions {
  create(input: {
    url: string;
    events: string[];
    ownerCreatedAt: Date;
    now: Date;
  }): Promise<WebhookSubscriptionDocument>;
  /** Oldest first; `cursor` is the last id of the previous page. */
  list(input: {
    ownerCreatedAt: Date;
    limit: number;
    cursor?: string;
  }): Promise<{ items: WebhookSubscriptionDocument[]; nextCursor: string | null }>;
  /** Null when absent or an earlier client's. */
  get(id: string, ownerCreatedAt: Date): Promise<WebhookSubscriptionDocument | null>;
  delete(id: string, ownerCreatedAt: Date): Promise<boolean>;
  /** The enabled subscriptions to `type`, for the fan-out. */
  subscribedTo(type: string, ownerCreatedAt: Date): Promise<WebhookSubscriptionDocument[]>;
  /** Disables a subscription (its endpoint answered 410 Gone); false when it no longer exists. */
  disable(id: ObjectId, reason: string, now: Date): Promise<boolean>;
}

const objectIdOf = (id: string): ObjectId | null =>
  /^[0-9a-fA-F]{24}$/.test(id) ? new ObjectId(id.toLowerCase()) : null;

/** The tenant's subscriptions (its own database, `webhook_subscriptions`). */
export function webhookSubscriptionsOf(db: Db): WebhookSubscriptions {
  const collection: Collection<WebhookSubscriptionDocument> = db.collection(WEBHOOK_SUBSCRIPTIONS_COLLECTION);
  const mine = (ownerCreatedAt: Date) => ({ ownerCreatedAt: { $gte: ownerCreatedAt } });
  return {
    async create({ url, events, ownerCreatedAt, now }) {
      // Each subscription takes a free slot below the limit; a unique index on (owner, slot) makes two
      // concurrent creates that chose the same slot collide, and the loser tries the next free one.
      const taken = new Set(
        (await collection.find(mine(ownerCreatedAt), { projection: { slot: 1 } }).toArray()).map(
          (doc) => doc.slot,
        ),
      );
      for (let slot = 0; slot < MAX_WEBHOOK_SUBSCRIPTIONS; slot++) {
        if (taken.has(slot)) continue;
        const doc: WebhookSubscriptionDocument = {
          _id: new ObjectId(),
          url,
          events,
          enabled: true,
          ownerCreatedAt,
          slot,
          createdAt: now,
          updatedAt: now,
          disabledAt: null,
          disabledReason: null,
        };
        try {
          await collection.insertOne(doc);
          return doc;
        } catch (error) {
          if ((error as { code?: unknown }).code !== 11000) throw error;
          taken.add(slot);
        }
      }
      throw new AppError(
        WebhookErrorCode.limit,
        `This client already has ${MAX_WEBHOOK_SUBSCRIPTIONS} webhook subscriptions, the most a client may have: delete unused ones (DELETE /api/saas/webhooks/:id) first`,
        409,
      );
    },

    async list({ ownerCreatedAt, limit, cursor }) {
      const after = cursor === undefined ? null : objectIdOf(cursor);
      if (cursor !== undefined && after === null) {
        throw badRequest("ECODRIX_WEBHOOKS_INVALID_CURSOR", "querystring/cursor is not a valid cursor");
      }
      const items = await collection
        .find({ ...mine(ownerCreatedAt), ...(after ? { _id: { $gt: after } } : {}) })
        .sort({ _id: 1 })
        .limit(limit + 1)
        .toArray();
      if (items.length <= limit) return { items, nextCursor: null };
      const page = items.slice(0, limit);
      return { items: page, nextCursor: String(page[page.length - 1]?._id) };
    },

    async get(id, ownerCreatedAt) {
      const _id = objectIdOf(id);
      return _id ? collection.findOne({ _id, ...mine(ownerCreatedAt) }) : null;
    },

    async delete(id, ownerCreatedAt) {
      const _id = objectIdOf(id);
      if (!_id) return false;
      return (await collection.deleteOne({ _id, ...mine(ownerCreatedAt) })).deletedCount === 1;
    },

    subscribedTo(type, ownerCreatedAt) {
      return collection
        .find({ enabled: true, events: type, ...mine(ownerCreatedAt) })
        .sort({ _id: 1 })
        .limit(MAX_WEBHOOK_SUBSCRIPTIONS * 2)
        .toArray();
    },

    async disable(id, reason, now) {
      const result = await collection.updateOne(
        { _id: id },
        { $set: { enabled: false, disabledAt: now, disabledReason: reason, updatedAt: now } },
      );
      return result.matchedCount === 1;
    },
  };
}

import { createHmac } from "node:crypto";

/**
 * The Standard Webhooks signature of one delivery: `v1,` + base64 HMAC-SHA256 of
 * `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the client's `automationWebhookSecret` string as
 * UTF-8 bytes (as Stripe keys with its secret string). A Standard Webhooks library verifies it when given
 * `whsec_` + base64 of those bytes (`standardWebhooksKey`).
 */
export function signWebhook(input: { id: string; timestamp: number; body: string; secret: string }): string {
  const mac = createHmac("sha256", Buffer.from(input.secret, "utf8"))
    .update(`${input.id}.${input.timestamp}.${input.body}`, "utf8")
    .digest("base64");
  return `v1,${mac}`;
}

/** The secret as Standard Webhooks libraries take it: `whsec_` + base64 of its UTF-8 bytes. */
export function standardWebhooksKey(secret: string): string {
  return `whsec_${Buffer.from(secret, "utf8").toString("base64")}`;
}

/**
 * How a client's receiver verifies our signed webhooks, in Node and in Python: shown in the API docs
 * (the description of `POST /api/saas/webhooks`) and run as written by webhook-verification-docs.test.ts
 * against a real signature, so the docs cannot drift from what the worker sends.
 */
export const NODE_VERIFY_SNIPPET = `import { createHmac, timingSafeEqual } from "node:crypto";

/** True when the delivery is signed with WEBHOOK_SECRET and less than 5 minutes old. rawBody: the bytes as received. */
export function verifyEcodrixWebhook(secret, headers, rawBody) {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!id || !timestamp || !signatures) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false; // replay window
  const expected = createHmac("sha256", Buffer.from(secret, "utf8"))
    .update(Buffer.concat([Buffer.from(\`\${id}.\${timestamp}.\`), Buffer.from(rawBody)]))
    .digest();
  return signatures.split(" ").some((entry) => {
    const [version, value] = entry.split(",");
    const given = Buffer.from(value ?? "", "base64");
    return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
  });
}
`;

export const PYTHON_VERIFY_SNIPPET = `import base64, hashlib, hmac, time

def verify_ecodrix_webhook(secret: str, headers: dict, raw_body: bytes) -> bool:
    """True when the delivery is signed with WEBHOOK_SECRET and less than 5 minutes old."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and timestamp and signatures):
        return False
    if abs(time.time() - int(timestamp)) > 300:  # replay window
        return False
    signed = f"{msg_id}.{timestamp}.".encode() + raw_body
    expected = base64.b64encode(hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).digest()).decode()
    return any(
        entry.startswith("v1,") and hmac.compare_digest(entry[3:], expected)
        for entry in signatures.split(" ")
    )
`;

/** Markdown for the API docs. */
export const WEBHOOK_VERIFICATION_MARKDOWN = `
### Verifying a delivery

Compute the signature over the raw body bytes as received (before any JSON parsing), compare in constant
time, and refuse timestamps more than 5 minutes away. The key is your \`automationWebhookSecret\` string's
UTF-8 bytes (as given, not hex-decoded). A Standard Webhooks library (\`standardwebhooks\` on npm and PyPI)
verifies the same signature when given \`"whsec_" + base64(utf8(secret))\`.

Node:

\`\`\`js
${NODE_VERIFY_SNIPPET}\`\`\`

Python:

\`\`\`python
${PYTHON_VERIFY_SNIPPET}\`\`\`

A receiver that finds no match should answer **401 \`HMAC mismatch\`**: the delivery then fails at once
(4xx other than 408/429 are not retried) and that answer is the delivery job's \`lastError\`
(\`GET /api/saas/jobs/:id\`). It means the receiver is keyed with another secret than the client's
current \`automationWebhookSecret\` (runbook §8), or verifies a re-serialised body instead of the raw bytes.
Answer 2xx within 10 s and do slow work afterwards; a delivery is retried with the same \`webhook-id\`
(dedupe on it).
`;

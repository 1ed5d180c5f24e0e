import { createHmac, timingSafeEqual } from "node:crypto";

/** `sha256=` + hex HMAC-SHA256 of the raw body, keyed with the Meta app secret (X-Hub-Signature-256). */
export function whatsappSignatureOf(rawBody: Buffer, appSecret: string): string {
  return `sha256=${createHmac("sha256", appSecret).update(rawBody).digest("hex")}`;
}

/** True when the header is the body's signature; compared in constant time. */
export function whatsappSignatureMatches(
  rawBody: Buffer,
  header: string | undefined,
  appSecret: string,
): boolean {
  if (typeof header !== "string") return false;
  const expected = Buffer.from(whatsappSignatureOf(rawBody, appSecret), "utf8");
  const given = Buffer.from(header.trim().toLowerCase(), "utf8");
  // Lengths are not secret (always 71 for a well-formed header); equal lengths are compared in constant time.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

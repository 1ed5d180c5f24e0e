import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Tenant API keys: `ecx_live_` + 32 random bytes (256 bits) in base64url. Shown once, stored as
 * SHA-256. A fast hash is right here: the key is random, so there is nothing to brute-force that a
 * slow hash would protect, and verification stays one hash plus one indexed lookup per request.
 */
export const API_KEY_PREFIX = "ecx_live_";
const API_KEY_PATTERN = /^ecx_live_[A-Za-z0-9_-]{43}$/;

export function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
}

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** The first characters of a key: enough to tell keys apart in a listing, useless to an attacker. */
export function apiKeyHint(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + 4);
}

export function looksLikeApiKey(key: string): boolean {
  return API_KEY_PATTERN.test(key);
}

/** Constant-time comparison of a presented key against a stored hash. */
export function apiKeyMatches(presented: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash, "hex");
  const actual = createHash("sha256").update(presented, "utf8").digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

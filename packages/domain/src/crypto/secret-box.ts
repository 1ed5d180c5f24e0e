import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { AppError } from "@ecodrix/platform";

/**
 * Field-level encryption for secrets at rest: AES-256-GCM, a random 96-bit nonce per value, and
 * the id of the key in every ciphertext so ENCRYPTION_KEY can be rotated online (old values stay
 * readable under a previous key until `encryption rotate` re-encrypts them).
 *
 * Stored form (a plain string, readable as "encrypted" in Atlas):
 *   `ecx1:<keyId 8 hex>:<nonce base64url>:<ciphertext base64url>:<tag base64url>`
 *
 * The AAD binds a ciphertext to its owner: `ecodrix/v1 <clientCode> <field>`. A value copied into
 * another client's document, or into another field of the same client, fails authentication.
 */
export const CIPHERTEXT_PREFIX = "ecx1:";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface SecretContext {
  clientCode: string;
  /** The field's name (dotted path for nested fields), e.g. `smtpPass`, `dbUri`. */
  field: string;
}

export interface SecretBox {
  /** Id of the key that encrypts (the current ENCRYPTION_KEY). */
  readonly currentKeyId: string;
  /** Ids of every key that can decrypt, current first. */
  readonly keyIds: readonly string[];
  encrypt(plaintext: string, context: SecretContext): string;
  decrypt(ciphertext: string, context: SecretContext): string;
  /** The key id a ciphertext was made with, or undefined when the text is not one of ours. */
  keyIdOf(ciphertext: string): string | undefined;
  /** True when the value is a ciphertext under a key other than the current one. */
  needsReencryption(ciphertext: string): boolean;
  /** Decrypts with whichever key made it and encrypts under the current key. */
  reencrypt(ciphertext: string, context: SecretContext): string;
}

/** A short, stable, non-secret id for a key: the first 8 hex digits of SHA-256 over it. */
export function keyIdOf(key: Buffer): string {
  return createHash("sha256").update("ecodrix-key-id:").update(key).digest("hex").slice(0, 8);
}

export function isCiphertext(value: unknown): value is string {
  return typeof value === "string" && value.startsWith(CIPHERTEXT_PREFIX);
}

function aad(context: SecretContext): Buffer {
  return Buffer.from(`ecodrix/v1 ${context.clientCode} ${context.field}`, "utf8");
}

function decryptFailed(context: SecretContext, reason: string): AppError {
  // Names the field and client, never the value.
  return new AppError(
    "ECODRIX_CRYPTO_DECRYPT_FAILED",
    `Cannot decrypt ${context.field} of ${context.clientCode}: ${reason}`,
    500,
    { retryable: false },
  );
}

/** `keys`: the current key first, then previous keys (decrypt only); each exactly 32 bytes. */
export function createSecretBox({ keys }: { keys: readonly Buffer[] }): SecretBox {
  const [current] = keys;
  if (!current) throw new Error("createSecretBox: at least one key is required");
  for (const key of keys) {
    if (key.length !== 32) throw new Error("createSecretBox: every key must be 32 bytes");
  }
  const byId = new Map<string, Buffer>();
  for (const key of keys) {
    const id = keyIdOf(key);
    if (!byId.has(id)) byId.set(id, key);
  }
  const currentKeyId = keyIdOf(current);

  function parse(ciphertext: string) {
    const parts = ciphertext.split(":");
    if (parts.length !== 5 || `${parts[0]}:` !== CIPHERTEXT_PREFIX) return undefined;
    const [, keyId, nonce, body, tag] = parts as [string, string, string, string, string];
    return {
      keyId,
      nonce: Buffer.from(nonce, "base64url"),
      body: Buffer.from(body, "base64url"),
      tag: Buffer.from(tag, "base64url"),
    };
  }

  const box: SecretBox = {
    currentKeyId,
    keyIds: [...byId.keys()],

    encrypt(plaintext, context) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv("aes-256-gcm", current, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad(context));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      const tag = cipher.getAuthTag();
      return `${CIPHERTEXT_PREFIX}${currentKeyId}:${nonce.toString("base64url")}:${body.toString("base64url")}:${tag.toString("base64url")}`;
    },

    decrypt(ciphertext, context) {
      const parsed = parse(ciphertext);
      if (!parsed || parsed.nonce.length !== NONCE_BYTES || parsed.tag.length !== TAG_BYTES) {
        throw decryptFailed(context, "not a ciphertext");
      }
      const key = byId.get(parsed.keyId);
      if (!key) {
        throw decryptFailed(
          context,
          `key ${parsed.keyId} is neither ENCRYPTION_KEY nor in ENCRYPTION_KEYS_PREVIOUS`,
        );
      }
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, parsed.nonce, { authTagLength: TAG_BYTES });
        decipher.setAAD(aad(context));
        decipher.setAuthTag(parsed.tag);
        return Buffer.concat([decipher.update(parsed.body), decipher.final()]).toString("utf8");
      } catch {
        throw decryptFailed(
          context,
          "authentication failed (tampered, or not this client's or field's value)",
        );
      }
    },

    keyIdOf(ciphertext) {
      return parse(ciphertext)?.keyId;
    },

    needsReencryption(ciphertext) {
      const id = parse(ciphertext)?.keyId;
      return id !== undefined && id !== currentKeyId;
    },

    reencrypt(ciphertext, context) {
      return box.encrypt(box.decrypt(ciphertext, context), context);
    },
  };
  return box;
}

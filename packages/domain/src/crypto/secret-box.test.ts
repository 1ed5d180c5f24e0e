import { randomBytes } from "node:crypto";
import { isAppError } from "@ecodrix/platform";
import { describe, expect, it } from "vitest";
import { CIPHERTEXT_PREFIX, createSecretBox, keyIdOf } from "./secret-box.js";

const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const sharma = { clientCode: "sharmaclinic", field: "smtpPass" };

function decryptError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(isAppError(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error("expected decryption to fail");
}

describe("secret box (AES-256-GCM, key id, AAD = client + field)", () => {
  it("round-trips and carries the current key id, with a fresh nonce every time", () => {
    const box = createSecretBox({ keys: [newKey] });
    const a = box.encrypt("hunter2", sharma);
    const b = box.encrypt("hunter2", sharma);
    expect(a.startsWith(`${CIPHERTEXT_PREFIX}${keyIdOf(newKey)}:`)).toBe(true);
    expect(a).not.toBe(b);
    expect(a).not.toContain("hunter2");
    expect(box.decrypt(a, sharma)).toBe("hunter2");
    expect(Buffer.from(a.split(":")[2] ?? "", "base64url")).toHaveLength(12);
  });

  it("refuses a tampered ciphertext or tag", () => {
    const box = createSecretBox({ keys: [newKey] });
    const [prefix, id, nonce, body, tag] = box.encrypt("hunter2", sharma).split(":") as string[];
    const flipped = Buffer.from(body ?? "", "base64url");
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    const tampered = [prefix, id, nonce, flipped.toString("base64url"), tag].join(":");
    expect(decryptError(() => box.decrypt(tampered, sharma))).toMatch(/authentication failed/);
    const badTag = [prefix, id, nonce, body, Buffer.alloc(16).toString("base64url")].join(":");
    expect(decryptError(() => box.decrypt(badTag, sharma))).toMatch(/authentication failed/);
  });

  it("refuses a ciphertext copied to another client or another field (wrong AAD)", () => {
    const box = createSecretBox({ keys: [newKey] });
    const ciphertext = box.encrypt("hunter2", sharma);
    expect(() => box.decrypt(ciphertext, { clientCode: "otherclinic", field: "smtpPass" })).toThrow(
      /Cannot decrypt smtpPass of otherclinic/,
    );
    expect(() => box.decrypt(ciphertext, { clientCode: "sharmaclinic", field: "whatsappToken" })).toThrow(
      /authentication failed/,
    );
  });

  it("refuses a ciphertext made under a key it does not hold, naming the key id and not the value", () => {
    const oldBox = createSecretBox({ keys: [oldKey] });
    const newBox = createSecretBox({ keys: [newKey] });
    const ciphertext = oldBox.encrypt("hunter2", sharma);
    const message = decryptError(() => newBox.decrypt(ciphertext, sharma));
    expect(message).toContain(keyIdOf(oldKey));
    expect(message).not.toContain("hunter2");
  });

  it("refuses a forged key id pointing at the wrong key (wrong key)", () => {
    const box = createSecretBox({ keys: [newKey, oldKey] });
    const ciphertext = createSecretBox({ keys: [oldKey] }).encrypt("hunter2", sharma);
    const relabelled = ciphertext.replace(keyIdOf(oldKey), keyIdOf(newKey));
    expect(() => box.decrypt(relabelled, sharma)).toThrow(/authentication failed/);
  });

  it("decrypts with a previous key, re-encrypts under the current one, and says which need it", () => {
    const before = createSecretBox({ keys: [oldKey] });
    const after = createSecretBox({ keys: [newKey, oldKey] });
    const ciphertext = before.encrypt("hunter2", sharma);
    expect(after.decrypt(ciphertext, sharma)).toBe("hunter2");
    expect(after.needsReencryption(ciphertext)).toBe(true);
    const rotated = after.reencrypt(ciphertext, sharma);
    expect(after.keyIdOf(rotated)).toBe(keyIdOf(newKey));
    expect(after.needsReencryption(rotated)).toBe(false);
    expect(createSecretBox({ keys: [newKey] }).decrypt(rotated, sharma)).toBe("hunter2");
    expect(after.needsReencryption("plain text")).toBe(false);
  });

  it("refuses keys that are not 32 bytes", () => {
    expect(() => createSecretBox({ keys: [randomBytes(16)] })).toThrow(/32 bytes/);
    expect(() => createSecretBox({ keys: [] })).toThrow(/at least one key/);
  });
});

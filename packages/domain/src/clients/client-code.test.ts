import { describe, expect, it } from "vitest";
import { apiKeyHint, apiKeyMatches, generateApiKey, hashApiKey, looksLikeApiKey } from "./api-key.js";
import { deriveClientCode, isValidClientCode } from "./client-code.js";

describe("client code derivation", () => {
  it("takes the e-mail domain label when it agrees with the name (the runbook example)", () => {
    expect(deriveClientCode("Dr. Sharma Clinic", "contact@sharmaclinic.com")).toBe("sharmaclinic");
    expect(deriveClientCode("Sharma Dental", "info@sharma-dental.co.in")).toBe("sharma-dental");
    expect(deriveClientCode("Smile Care", "hello@smilecare.co.uk")).toBe("smilecare");
  });

  it("falls back to the name when the domain is a mailbox provider or unrelated", () => {
    expect(deriveClientCode("Dr. Sharma Clinic", "drsharma@gmail.com")).toBe("sharma-clinic");
    expect(deriveClientCode("Green Valley Physio", "admin@acme-hosting.com")).toBe("green-valley-physio");
    expect(deriveClientCode("Clínica São José", "x@outlook.com")).toBe("clinica-sao-jose");
  });

  it("gives up (undefined) when nothing usable is left, and stays within 40 characters", () => {
    expect(deriveClientCode("東京", "x@gmail.com")).toBeUndefined();
    const long = deriveClientCode(
      `${"A ".repeat(10)}Very Long Clinic Name That Keeps Going On And On`,
      "a@gmail.com",
    );
    expect(long && long.length <= 40 && isValidClientCode(long)).toBe(true);
  });

  it("validates codes: lowercase letters, digits, single inner hyphens, 2-40 characters", () => {
    for (const good of ["sharmaclinic", "ab", "clinic-42", "a".repeat(40)])
      expect(isValidClientCode(good)).toBe(true);
    for (const bad of ["a", "Sharma", "-abc", "abc-", "a--b", "a_b", "a.b", "a".repeat(41), "$gt"]) {
      expect(isValidClientCode(bad)).toBe(false);
    }
  });
});

describe("API keys", () => {
  it("are prefixed, 256-bit, unique, and verified against their SHA-256 hash", () => {
    const key = generateApiKey();
    expect(looksLikeApiKey(key)).toBe(true);
    expect(key.startsWith("ecx_live_")).toBe(true);
    expect(generateApiKey()).not.toBe(key);
    const hash = hashApiKey(key);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(apiKeyMatches(key, hash)).toBe(true);
    expect(apiKeyMatches(`${key}x`, hash)).toBe(false);
    expect(apiKeyMatches(generateApiKey(), hash)).toBe(false);
    expect(apiKeyHint(key)).toHaveLength("ecx_live_".length + 4);
  });
});

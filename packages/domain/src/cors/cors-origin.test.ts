import { describe, expect, it } from "vitest";
import { normalizeOrigin, tryNormalizeOrigin } from "./cors-origin.js";

describe("CORS origin validation", () => {
  it("accepts scheme + host + optional port and normalises it to the browser's Origin form", () => {
    expect(normalizeOrigin("https://sharmaclinic.com")).toBe("https://sharmaclinic.com");
    expect(normalizeOrigin("https://SharmaClinic.com/")).toBe("https://sharmaclinic.com");
    expect(normalizeOrigin("https://app.sharmaclinic.com:8443")).toBe("https://app.sharmaclinic.com:8443");
    expect(normalizeOrigin("https://sharmaclinic.com:443")).toBe("https://sharmaclinic.com");
    expect(normalizeOrigin("http://localhost:5173")).toBe("http://localhost:5173");
  });

  it("refuses paths, queries, fragments, credentials, other schemes, wildcards, and names the field", () => {
    const cases: Array<[string, RegExp]> = [
      ["https://sharmaclinic.com/app", /a path is not allowed/],
      ["https://sharmaclinic.com/?a=1", /query/],
      ["https://sharmaclinic.com#x", /fragment/],
      ["https://user:pw@sharmaclinic.com", /credentials/],
      ["ftp://sharmaclinic.com", /scheme/],
      ["javascript:alert(1)", /scheme/],
      ["sharmaclinic.com", /not a URL/],
      ["https://*.sharmaclinic.com", /wildcard|not a URL/],
    ];
    for (const [input, reason] of cases) {
      expect(() => normalizeOrigin(input), input).toThrow(reason);
      expect(() => normalizeOrigin(input), input).toThrow(/^body\/url must be an origin/);
    }
    expect(tryNormalizeOrigin("null")).toBeUndefined();
    expect(tryNormalizeOrigin(undefined)).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import { loadProductCapabilities } from "../capabilities.js";
import { coerceSecretValues, parseSecretsFile, parseSetArguments } from "./secrets-input.js";

describe("clients secrets input", () => {
  it("--set name=value: the value is everything after the first '='", () => {
    expect(parseSetArguments(["smtpHost=smtp.gmail.com", "smtpPass=a=b=c", "smtpFrom="])).toEqual({
      smtpHost: "smtp.gmail.com",
      smtpPass: "a=b=c",
      smtpFrom: "",
    });
  });

  it("types values as the capabilities declare their fields: smtpPort is sent as a number", async () => {
    const { secretFields } = await loadProductCapabilities();
    expect(secretFields.get("smtpPort")?.type).toBe("integer");
    expect(
      coerceSecretValues(
        { smtpPort: "465", smtpHost: "465", whatsappBusinessId: "123", smtpUser: 7, other: "1" },
        secretFields,
      ),
    ).toEqual({ smtpPort: 465, smtpHost: "465", whatsappBusinessId: "123", smtpUser: 7, other: "1" });
    // Not an integer: sent as text, so the API refuses it by name.
    expect(coerceSecretValues({ smtpPort: "46x" }, secretFields)).toEqual({ smtpPort: "46x" });
    // smtpSecure is the product's boolean field: `--set smtpSecure=false` is sent as false.
    expect(secretFields.get("smtpSecure")?.type).toBe("boolean");
    expect(coerceSecretValues({ smtpSecure: "false" }, secretFields)).toEqual({ smtpSecure: false });
    const flags = new Map([["enabled", { type: "boolean" as const }]]);
    expect(coerceSecretValues({ enabled: "true" }, flags)).toEqual({ enabled: true });
    expect(coerceSecretValues({ enabled: "yes" }, flags)).toEqual({ enabled: "yes" });
  });

  it("a malformed --set names its position, never its text", () => {
    const secret = "s3cr3t-value";
    const messages = [
      ["smtpPass"],
      [`=${secret}`],
      [`smtp pass=${secret}`],
      ["smtpHost=a", `smtpHost=${secret}`],
    ].map((args) => {
      try {
        parseSetArguments(args);
        return "accepted";
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(messages).toEqual([
      '--set number 1 has no "=": write --set name=value (the argument is not shown)',
      "--set number 1 does not start with a field name: write --set name=value, e.g. --set smtpHost=smtp.gmail.com",
      "--set number 1 does not start with a field name: write --set name=value, e.g. --set smtpHost=smtp.gmail.com",
      "--set smtpHost is given twice",
    ]);
  });

  it("a secrets file must be one JSON object; a parse error keeps the position and drops Node's quote of the text", () => {
    expect(parseSecretsFile('{ "smtpPort": 465 }', "f.json")).toEqual({ smtpPort: 465 });
    expect(() => parseSecretsFile('{ "smtpPass": hunter2 }', "f.json")).toThrow(
      /^f\.json is not valid JSON$/,
    );
    expect(() => parseSecretsFile('{ "smtpPass": "hunter2", }', "f.json")).toThrow(
      /^f\.json is not valid JSON \(line 1 column 26\)$/,
    );
    expect(() => parseSecretsFile('["hunter2"]', "f.json")).toThrow("f.json must hold one JSON object");
    expect(() => parseSecretsFile("null", "f.json")).toThrow("f.json must hold one JSON object");
  });
});

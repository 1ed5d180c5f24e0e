import { setSecretsBodySchema } from "@ecodrix/domain";
import { describe, expect, it } from "vitest";
import { integerFieldsOf, parseSecretsFile, parseSetArguments } from "./secrets-input.js";

const integers = integerFieldsOf(setSecretsBodySchema);

describe("clients secrets input", () => {
  it("takes the integer fields from the API's own body schema", () => {
    expect([...integers]).toEqual(["smtpPort"]);
  });

  it("--set name=value: the value is everything after the first '=', smtpPort becomes a number", () => {
    expect(
      parseSetArguments(
        ["smtpHost=smtp.gmail.com", "smtpPort=465", "smtpPass=a=b=c", "smtpFrom=", "whatsappBusinessId=123"],
        integers,
      ),
    ).toEqual({
      smtpHost: "smtp.gmail.com",
      smtpPort: 465,
      smtpPass: "a=b=c",
      smtpFrom: "",
      whatsappBusinessId: "123",
    });
    // Not an integer: sent as text, so the API refuses it by name.
    expect(parseSetArguments(["smtpPort=46x"], integers)).toEqual({ smtpPort: "46x" });
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
        parseSetArguments(args, integers);
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

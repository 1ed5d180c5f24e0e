import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";

function capture() {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on("data", (chunk: Buffer) => lines.push(...chunk.toString().trim().split("\n")));
  return { stream, lines };
}

describe("logger redaction", () => {
  it("replaces key headers and secret fields with [redacted]", async () => {
    const { stream, lines } = capture();
    const log = createLogger({
      level: "info",
      name: "t",
      destination: stream,
      redactFields: ["smtpPass", "whatsappToken"],
    });
    log.info(
      {
        req: {
          headers: {
            "x-api-key": "ecx_live_SECRET1",
            "x-core-api-key": "ADMINSECRET2",
            authorization: "Bearer T3",
          },
        },
        secrets: { smtpPass: "PASS4", whatsappToken: "WA5" },
        password: "PW6",
      },
      "hello",
    );
    await new Promise((resolve) => setImmediate(resolve));
    const text = lines.join("\n");
    for (const secret of ["SECRET1", "ADMINSECRET2", "Bearer T3", "PASS4", "WA5", "PW6"]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain("[redacted]");
    expect(text).toContain("hello");
  });
});

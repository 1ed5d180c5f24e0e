import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, loggableUrl } from "./logger.js";

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

describe("request URLs in logs", () => {
  it("replaces the values of credential-carrying query parameters, keeping the rest", () => {
    expect(loggableUrl("/api/auth/google/connect?clientCode=sharma&token=link.abc.def")).toBe(
      "/api/auth/google/connect?clientCode=sharma&token=[redacted]",
    );
    expect(loggableUrl("/api/auth/google/callback?state=s.1.2&code=4%2Fxyz&scope=a+b")).toBe(
      "/api/auth/google/callback?state=[redacted]&code=[redacted]&scope=a+b",
    );
    expect(
      loggableUrl("/api/webhooks/whatsapp/x?hub.mode=subscribe&hub%2Everify_token=v&hub.challenge=1"),
    ).toBe("/api/webhooks/whatsapp/x?hub.mode=subscribe&hub%2Everify_token=[redacted]&hub.challenge=1");
    expect(loggableUrl("/api/clients?x-core-api-key=tok&X_API_KEY=k&client_secret=s&page=2")).toBe(
      "/api/clients?x-core-api-key=[redacted]&X_API_KEY=[redacted]&client_secret=[redacted]&page=2",
    );
    expect(loggableUrl("/api/admin/jobs?status=failed&limit=50")).toBe(
      "/api/admin/jobs?status=failed&limit=50",
    );
    expect(loggableUrl("/api/saas/health")).toBe("/api/saas/health");
  });

  it("logs a request's URL through it", async () => {
    const { stream, lines } = capture();
    const log = createLogger({ level: "info", name: "t", destination: stream });
    log.info({ req: { method: "GET", url: "/x?token=SECRET9&a=1", ip: "127.0.0.1" } }, "incoming request");
    await new Promise((resolve) => setImmediate(resolve));
    const line = JSON.parse(lines[0] ?? "{}") as { req: { url: string; method: string } };
    expect(line.req).toMatchObject({ method: "GET", url: "/x?token=[redacted]&a=1" });
  });
});

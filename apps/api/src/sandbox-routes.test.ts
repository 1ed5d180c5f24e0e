import {
  type CapturedMessage,
  type Sandbox,
  type SandboxFakeEntry,
  startSandbox,
} from "@ecodrix/test-kit/fakes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, startTestApi, type TestApi } from "../test/test-app.js";

/** Two stand-in fakes whose captures the test controls, registered like the real ones. */
function recordingFake(name: string, messages: CapturedMessage[]): SandboxFakeEntry {
  return {
    name,
    start: async () => ({
      name,
      env: { [`${name.toUpperCase()}_FAKE_URL`]: `http://127.0.0.1:1/${name}` },
      notes: [`${name} fake`],
      captured: () => messages,
      stop: async () => {},
    }),
  };
}

const message = (service: string, n: number): CapturedMessage => ({
  service,
  kind: `${service}.message`,
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  to: [`to-${n}@example.test`],
  summary: `${service} #${n}`,
  data: { n },
});

describe("GET /api/sandbox/outbox (sandbox mode)", () => {
  const mail: CapturedMessage[] = [message("smtp", 1), message("smtp", 3)];
  const chat: CapturedMessage[] = [message("whatsapp", 2)];
  let sandbox: Sandbox;
  let api: TestApi;

  beforeAll(async () => {
    sandbox = await startSandbox([recordingFake("smtp", mail), recordingFake("whatsapp", chat)]);
    api = await startTestApi({ config: { sandbox: true, sandboxOutboxUrl: sandbox.outboxUrl } });
  });
  afterAll(async () => {
    await api.close();
    await sandbox.stop();
  });

  it("the sandbox sets every fake's settings and its own", () => {
    expect(sandbox.env).toMatchObject({
      SMTP_FAKE_URL: "http://127.0.0.1:1/smtp",
      WHATSAPP_FAKE_URL: "http://127.0.0.1:1/whatsapp",
      ECODRIX_SANDBOX: "true",
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true",
      SANDBOX_OUTBOX_URL: sandbox.outboxUrl,
    });
  });

  it("lists every fake's captures, newest first, with the admin key only", async () => {
    const res = await api.app.inject({ method: "GET", url: "/api/sandbox/outbox", headers: admin });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ messages: Array<CapturedMessage & { id: string }>; nextCursor: string | null }>();
    expect(body.messages.map((m) => [m.id, m.summary])).toEqual([
      ["smtp-2", "smtp #3"],
      ["whatsapp-1", "whatsapp #2"],
      ["smtp-1", "smtp #1"],
    ]);
    expect(body.messages[0]).toMatchObject({
      to: ["to-3@example.test"],
      data: { n: 3 },
      kind: "smtp.message",
    });
    expect(body.nextCursor).toBeNull();

    expect((await api.app.inject({ method: "GET", url: "/api/sandbox/outbox" })).statusCode).toBe(401);
  });

  it("filters by service and pages with limit and cursor", async () => {
    const only = (
      await api.app.inject({ method: "GET", url: "/api/sandbox/outbox?service=smtp", headers: admin })
    ).json<{ messages: Array<{ id: string }> }>();
    expect(only.messages.map((m) => m.id)).toEqual(["smtp-2", "smtp-1"]);

    const first = (
      await api.app.inject({ method: "GET", url: "/api/sandbox/outbox?limit=2", headers: admin })
    ).json<{ messages: Array<{ id: string }>; nextCursor: string | null }>();
    expect(first.messages.map((m) => m.id)).toEqual(["smtp-2", "whatsapp-1"]);
    expect(first.nextCursor).toBe("2");
    const second = (
      await api.app.inject({
        method: "GET",
        url: `/api/sandbox/outbox?limit=2&cursor=${first.nextCursor}`,
        headers: admin,
      })
    ).json<{ messages: Array<{ id: string }>; nextCursor: string | null }>();
    expect(second.messages.map((m) => m.id)).toEqual(["smtp-1"]);
    expect(second.nextCursor).toBeNull();

    const bad = await api.app.inject({ method: "GET", url: "/api/sandbox/outbox?limit=0", headers: admin });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ message: "querystring/limit must be >= 1" });
  });

  it("says what to do when the outbox is missing or not answering", async () => {
    const missing = await startTestApi({ config: { sandbox: true } });
    try {
      const res = await missing.app.inject({ method: "GET", url: "/api/sandbox/outbox", headers: admin });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({
        code: "ECODRIX_SANDBOX_NO_OUTBOX",
        message: expect.stringContaining("ECODRIX_SANDBOX=true npm start"),
      });
    } finally {
      await missing.close();
    }
    const gone = await startTestApi({
      config: { sandbox: true, sandboxOutboxUrl: "http://127.0.0.1:9/outbox" },
    });
    try {
      const res = await gone.app.inject({ method: "GET", url: "/api/sandbox/outbox", headers: admin });
      expect(res.statusCode).toBe(502);
      expect(res.json()).toMatchObject({
        code: "ECODRIX_SANDBOX_OUTBOX_UNREACHABLE",
        message: expect.stringContaining("is npm start still running?"),
      });
    } finally {
      await gone.close();
    }
  });
});

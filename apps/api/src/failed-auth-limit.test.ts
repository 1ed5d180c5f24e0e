import { randomBytes } from "node:crypto";
import type { InjectOptions } from "fastify";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, startTestApi, type TestApi, tenantHeaders } from "../test/test-app.js";

const cors = (headers: Record<string, string>, remoteAddress?: string): InjectOptions => ({
  method: "GET",
  url: "/api/saas/cors",
  headers,
  ...(remoteAddress ? { remoteAddress } : {}),
});
const guessedCode = () => `guess-${randomBytes(6).toString("hex")}`;
const wellFormedKey = () => `ecx_live_${randomBytes(32).toString("base64url")}`;

async function createClient(api: TestApi, name: string, email: string): Promise<string> {
  const created = await api.app.inject({
    method: "POST",
    url: "/api/clients",
    headers: admin,
    payload: { name, email },
  });
  expect(created.statusCode).toBe(201);
  return created.json().apiKey;
}

async function withApi(options: Parameters<typeof startTestApi>[0], run: (api: TestApi) => Promise<void>) {
  const api = await startTestApi(options);
  try {
    await run(api);
  } finally {
    await api.close();
  }
}

describe("failed tenant authentication limit", () => {
  it("200 bad requests from one IP (wrong keys for the client, made-up codes) never lock out the valid key", () =>
    withApi({ authRateLimit: {} }, async (api) => {
      const apiKey = await createClient(api, "Zeta", "a@zeta.org");
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 200; attempt++) {
        const headers =
          attempt % 2 === 0 ? tenantHeaders("zeta", wellFormedKey()) : tenantHeaders(guessedCode(), "junk");
        statuses.push((await api.app.inject(cors(headers))).statusCode);
      }
      // The limit is in force (the attacker is slowed down)…
      expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
      expect(statuses.slice(-50)).toEqual(Array(50).fill(429));
      expect((await api.app.inject(cors(tenantHeaders("zeta", wellFormedKey())))).statusCode).toBe(429);
      // …and the client's own key, from the very same IP, still works every time.
      for (let call = 0; call < 3; call++) {
        expect((await api.app.inject(cors(tenantHeaders("zeta", apiKey)))).statusCode).toBe(200);
      }
    }));

  it("guessing client codes from one IP gets 429 after 100 failures a minute (all codes together), other IPs unaffected", () =>
    withApi({ authRateLimit: {} }, async (api) => {
      const apiKey = await createClient(api, "Zeta", "a@zeta.org");
      for (let attempt = 0; attempt < 100; attempt++) {
        const response = await api.app.inject(cors(tenantHeaders(guessedCode(), "ecx_live_guess")));
        expect(response.statusCode, `attempt ${attempt}`).toBe(401);
      }
      const limited = await api.app.inject(cors(tenantHeaders(guessedCode(), "ecx_live_guess")));
      expect(limited.statusCode).toBe(429);
      expect(limited.headers["retry-after"]).toMatch(/^\d+$/);
      expect(limited.json()).toEqual({
        statusCode: 429,
        error: "Too Many Requests",
        message: expect.stringMatching(/^Too many failed authentication attempts; retry in \d+ s$/),
        code: "ECODRIX_AUTH_RATE_LIMITED",
      });
      // The IP is limited as a whole, even for a code it never named; a right key is still let in.
      expect((await api.app.inject(cors(tenantHeaders("zeta", wellFormedKey())))).statusCode).toBe(429);
      expect((await api.app.inject(cors(tenantHeaders("zeta", apiKey)))).statusCode).toBe(200);
      expect((await api.app.inject(cors(tenantHeaders(guessedCode(), "x"), "10.0.0.7"))).statusCode).toBe(
        401,
      );
    }));

  it("filling the table with other keys cannot wipe a limit that is in force", () =>
    withApi(
      { authRateLimit: { maxFailures: 5, maxFailuresPerIp: 1_000_000, maxEntries: 50 } },
      async (api) => {
        for (let attempt = 0; attempt < 5; attempt++) {
          const response = await api.app.inject(
            cors(tenantHeaders("other-clinic", `ecx_live_bad${attempt}`)),
          );
          expect(response.statusCode).toBe(401);
        }
        expect((await api.app.inject(cors(tenantHeaders("other-clinic", "ecx_live_bad")))).statusCode).toBe(
          429,
        );
        // Far more distinct client codes than the table holds, from the same IP…
        for (let attempt = 0; attempt < 120; attempt++) {
          await api.app.inject(cors(tenantHeaders(guessedCode(), "ecx_live_guess")));
        }
        // …and from as many IPs (the per-IP table is capped the same way).
        for (let attempt = 0; attempt < 120; attempt++) {
          await api.app.inject(cors(tenantHeaders(guessedCode(), "ecx_live_guess"), `10.1.0.${attempt}`));
        }
        expect((await api.app.inject(cors(tenantHeaders("other-clinic", "ecx_live_bad")))).statusCode).toBe(
          429,
        );
      },
    ));

  it("after maxFailures failures for one client code, wrong keys get 429 with Retry-After; the right key and other clients behind the IP do not", () =>
    withApi({ authRateLimit: { maxFailures: 5, windowMs: 60_000 } }, async (api) => {
      const apiKey = await createClient(api, "Delta", "a@delta.org");
      const otherKey = await createClient(api, "Epsilon", "a@epsilon.org");
      for (let attempt = 0; attempt < 5; attempt++) {
        expect(
          (await api.app.inject(cors(tenantHeaders("delta", `ecx_live_guess${attempt}`)))).statusCode,
        ).toBe(401);
      }
      const limited = await api.app.inject(cors(tenantHeaders("delta", wellFormedKey())));
      expect(limited.statusCode).toBe(429);
      expect(limited.headers["retry-after"]).toMatch(/^\d+$/);
      expect(limited.json().message).toMatch(/^Too many failed authentication attempts; retry in \d+ s$/);
      expect((await api.app.inject(cors(tenantHeaders("delta", apiKey)))).statusCode).toBe(200);
      expect((await api.app.inject(cors(tenantHeaders("epsilon", otherKey)))).statusCode).toBe(200);
      expect((await api.app.inject(cors(tenantHeaders("epsilon", wellFormedKey())))).statusCode).toBe(401);
    }));
});

describe("TRUST_PROXY decides which address the limit counts", () => {
  const failFive = async (api: TestApi, forwardedFor: (attempt: number) => string) => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const response = await api.app.inject(
        cors({ ...tenantHeaders("delta", wellFormedKey()), "x-forwarded-for": forwardedFor(attempt) }),
      );
      expect(response.statusCode).toBe(401);
    }
  };
  const statusFrom = async (api: TestApi, forwardedFor: string, remoteAddress?: string) =>
    (
      await api.app.inject(
        cors({ ...tenantHeaders("delta", wellFormedKey()), "x-forwarded-for": forwardedFor }, remoteAddress),
      )
    ).statusCode;

  it.each([
    ["the proxy's address", ["127.0.0.1"] as string[]],
    ["a CIDR", ["127.0.0.0/8", "10.0.0.0/8"]],
    ["one hop", 1],
  ])("set to %s: X-Forwarded-For names the client", (_label, trustProxy) =>
    withApi({ authRateLimit: { maxFailures: 5 }, trustProxy }, async (api) => {
      await failFive(api, () => "203.0.113.1");
      expect(await statusFrom(api, "203.0.113.1")).toBe(429);
      // Another client behind the same load balancer is a different address.
      expect(await statusFrom(api, "203.0.113.2")).toBe(401);
      // The client address is the last one the trusted proxy appended, not what the caller claimed.
      expect(await statusFrom(api, "198.51.100.9, 203.0.113.1")).toBe(429);
    }),
  );

  it("set to addresses: a caller that is not a trusted proxy cannot pick its address", () =>
    withApi({ authRateLimit: { maxFailures: 5 }, trustProxy: ["127.0.0.1"] }, async (api) => {
      for (let attempt = 0; attempt < 5; attempt++) {
        expect(await statusFrom(api, `203.0.113.${attempt}`, "192.0.2.50")).toBe(401);
      }
      expect(await statusFrom(api, "203.0.113.99", "192.0.2.50")).toBe(429);
    }));

  it("unset: X-Forwarded-For is ignored, the socket's peer is the client", () =>
    withApi({ authRateLimit: { maxFailures: 5 } }, async (api) => {
      await failFive(api, (attempt) => `203.0.113.${attempt}`);
      expect(await statusFrom(api, "203.0.113.200")).toBe(429);
    }));
});

describe("failed admin authentication limit", () => {
  it("300 wrong tokens: 401 for the first 20 a minute, then 429 with Retry-After; the right token always works", () =>
    withApi({ adminAuthRateLimit: {} }, async (api) => {
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 300; attempt++) {
        const headers = attempt % 3 === 0 ? {} : { "x-core-api-key": `wrong-${attempt}-0123456789abcdef` };
        statuses.push((await api.app.inject({ method: "GET", url: "/api/clients", headers })).statusCode);
      }
      expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
      expect(statuses.slice(20)).toEqual(Array(280).fill(429));
      const limited = await api.app.inject({
        method: "GET",
        url: "/api/admin/jobs/stats",
        headers: { "x-core-api-key": "wrong" },
      });
      expect(limited.headers["retry-after"]).toMatch(/^\d+$/);
      expect(limited.json()).toMatchObject({ statusCode: 429, code: "ECODRIX_AUTH_RATE_LIMITED" });
      const right = await api.app.inject({
        method: "GET",
        url: "/api/clients",
        headers: { "x-core-api-key": ADMIN_TOKEN },
      });
      expect(right.statusCode).toBe(200);
      const otherIp = await api.app.inject({
        method: "GET",
        url: "/api/clients",
        headers: { "x-core-api-key": "wrong" },
        remoteAddress: "10.0.0.8",
      });
      expect(otherIp.statusCode).toBe(401);
    }));
});

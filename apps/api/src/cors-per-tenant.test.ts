import { MAX_CORS_ORIGINS_PER_CLIENT } from "@ecodrix/domain";
import type { InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, startTestApi, type TestApi, tenantHeaders } from "../test/test-app.js";

/** CORS origins belong to one tenant (runbook §1 step 6). */
describe("CORS per tenant", () => {
  let api: TestApi;
  const keys: Record<string, string> = {};
  const ALPHA = "https://app.alphaclinic.com";
  const BETA = "https://app.betaclinic.com";

  beforeAll(async () => {
    api = await startTestApi();
    for (const [code, origin] of [
      ["alphaclinic", ALPHA],
      ["betaclinic", BETA],
    ] as const) {
      const created = await api.app.inject({
        method: "POST",
        url: "/api/clients",
        headers: admin,
        payload: { name: code, email: `a@${code}.com` },
      });
      keys[code] = created.json().apiKey;
      const added = await api.app.inject({
        method: "POST",
        url: "/api/saas/cors",
        headers: tenantHeaders(code, keys[code]!),
        payload: { url: origin },
      });
      expect(added.statusCode).toBe(201);
    }
  });
  afterAll(() => api.close());

  const allowOrigin = async (options: InjectOptions) =>
    (await api.app.inject(options)).headers["access-control-allow-origin"];
  const preflight = (url: string, origin: string, extra: Record<string, string> = {}): InjectOptions => ({
    method: "OPTIONS",
    url,
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,x-api-key,x-client-code",
      ...extra,
    },
  });

  it("a request gets Access-Control-Allow-Origin only for an origin of the client it names", async () => {
    const get = (code: string, origin: string): InjectOptions => ({
      method: "GET",
      url: "/api/saas/cors",
      headers: { ...tenantHeaders(code, keys[code]!), origin },
    });
    expect(await allowOrigin(get("alphaclinic", ALPHA))).toBe(ALPHA);
    expect(await allowOrigin(get("betaclinic", BETA))).toBe(BETA);
    // alpha's origin on beta's requests, and the reverse: no CORS headers, so the page cannot read them.
    expect(await allowOrigin(get("betaclinic", ALPHA))).toBeUndefined();
    expect(await allowOrigin(get("alphaclinic", BETA))).toBeUndefined();
    // Even a failed authentication is readable only by the named client's origin.
    const wrongKey = {
      method: "GET" as const,
      url: "/api/saas/cors",
      headers: { "x-client-code": "alphaclinic", "x-api-key": "nope" },
    };
    expect(await allowOrigin({ ...wrongKey, headers: { ...wrongKey.headers, origin: ALPHA } })).toBe(ALPHA);
    expect(
      await allowOrigin({ ...wrongKey, headers: { ...wrongKey.headers, origin: BETA } }),
    ).toBeUndefined();
    // No x-client-code: no CORS headers.
    expect(
      await allowOrigin({ method: "GET", url: "/api/saas/health", headers: { origin: ALPHA } }),
    ).toBeUndefined();
  });

  it("preflights: without x-client-code (as browsers send them) for any client's origin; with it, only that client's", async () => {
    const response = await api.app.inject(preflight("/api/saas/cors", ALPHA));
    expect(response.statusCode).toBe(204);
    expect(response.headers["access-control-allow-origin"]).toBe(ALPHA);
    expect(response.headers["access-control-allow-headers"]).toContain("x-client-code");
    expect(await allowOrigin(preflight("/api/saas/cors", "https://evil.example"))).toBeUndefined();
    expect(await allowOrigin(preflight("/api/saas/cors", ALPHA, { "x-client-code": "alphaclinic" }))).toBe(
      ALPHA,
    );
    expect(
      await allowOrigin(preflight("/api/saas/cors", ALPHA, { "x-client-code": "betaclinic" })),
    ).toBeUndefined();
  });

  it("never on admin routes, preflight or not, whatever origin and credentials", async () => {
    for (const url of ["/api/clients", "/api/clients/alphaclinic", "/api/admin/jobs/stats", "/metrics"]) {
      expect(await allowOrigin(preflight(url, ALPHA)), url).toBeUndefined();
      expect(
        await allowOrigin(preflight(url, ALPHA, { "x-client-code": "alphaclinic" })),
        url,
      ).toBeUndefined();
      const get = {
        method: "GET" as const,
        url,
        headers: { ...admin, origin: ALPHA, "x-client-code": "alphaclinic" },
      };
      expect(await allowOrigin(get), url).toBeUndefined();
    }
  });

  it(`a client registers at most ${MAX_CORS_ORIGINS_PER_CLIENT} origins: a clear 409 beyond, even for concurrent adds`, async () => {
    const headers = tenantHeaders("alphaclinic", keys.alphaclinic!);
    const add = (url: string) =>
      api.app.inject({ method: "POST", url: "/api/saas/cors", headers, payload: { url } });
    for (let n = 1; n < MAX_CORS_ORIGINS_PER_CLIENT - 10; n++)
      expect((await add(`https://o${n}.alphaclinic.com`)).statusCode).toBe(201);
    // 40 registered; 20 at once compete for the last 10 places.
    const racing = await Promise.all(
      Array.from({ length: 20 }, (_, n) => add(`https://race${n}.alphaclinic.com`)),
    );
    const list = (await api.tenancy.corsOrigins.list("alphaclinic")).length;
    expect(list).toBeLessThanOrEqual(MAX_CORS_ORIGINS_PER_CLIENT);
    expect(racing.filter((response) => response.statusCode === 201).length).toBe(list - 40);
    for (const refused of racing.filter((response) => response.statusCode !== 201)) {
      expect(refused.json()).toEqual({
        statusCode: 409,
        error: "Conflict",
        message: `alphaclinic already has ${MAX_CORS_ORIGINS_PER_CLIENT} CORS origins, the most a client may register: remove one first (DELETE /api/saas/cors?url=…)`,
        code: "ECODRIX_CORS_ORIGIN_LIMIT",
      });
    }
    // Fill up to the cap, then one more is refused; re-adding a registered origin is still fine.
    for (let n = list; n < MAX_CORS_ORIGINS_PER_CLIENT; n++)
      expect((await add(`https://fill${n}.alphaclinic.com`)).statusCode).toBe(201);
    expect((await add("https://one-too-many.alphaclinic.com")).statusCode).toBe(409);
    expect((await add(ALPHA)).statusCode).toBe(200);
    expect(await api.tenancy.corsOrigins.list("alphaclinic")).toHaveLength(MAX_CORS_ORIGINS_PER_CLIENT);
    // Another client is not affected by alpha's count.
    const beta = await api.app.inject({
      method: "POST",
      url: "/api/saas/cors",
      headers: tenantHeaders("betaclinic", keys.betaclinic!),
      payload: { url: "https://second.betaclinic.com" },
    });
    expect(beta.statusCode).toBe(201);
  });
});

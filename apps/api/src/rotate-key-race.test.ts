import { ROTATION_SETTLE_MS } from "@ecodrix/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, startTestApi, type TestApi } from "../test/test-app.js";

describe("concurrent rotate-key (runbook §3)", () => {
  let api: TestApi;
  let base = "";

  beforeAll(async () => {
    api = await startTestApi();
    base = await api.app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(() => api.close());

  const call = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const asTenant = (apiKey: string) =>
    call("GET", "/api/saas/cors", { "x-client-code": "raceclinic", "x-api-key": apiKey });

  it("20 at once over HTTP: exactly one 200 whose key works, 19 × 409 that issued nothing", async () => {
    const created = await call(
      "POST",
      "/api/clients",
      { "x-core-api-key": ADMIN_TOKEN },
      {
        name: "Race Clinic",
        email: "a@raceclinic.com",
      },
    );
    const firstKey = ((await created.json()) as { apiKey: string }).apiKey;

    for (let round = 0; round < 3; round++) {
      const responses = await Promise.all(
        Array.from({ length: 20 }, () =>
          call("POST", "/api/clients/raceclinic/rotate-key", { "x-core-api-key": ADMIN_TOKEN }),
        ),
      );
      const bodies = (await Promise.all(responses.map((response) => response.json()))) as Array<{
        apiKey?: string;
        code?: string;
        message?: string;
      }>;
      const statuses = responses.map((response) => response.status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(1);
      expect(statuses.filter((status) => status === 409)).toHaveLength(19);
      const winner = bodies[statuses.indexOf(200)]!;
      for (const [index, body] of bodies.entries()) {
        if (statuses[index] !== 409) continue;
        expect(body).toEqual({
          statusCode: 409,
          error: "Conflict",
          message:
            "The API key of raceclinic was rotated by another request at the same time; this call issued no key (use the key that request returned, or rotate again)",
          code: "ECODRIX_CLIENT_KEY_ROTATION_CONFLICT",
        });
      }
      expect((await asTenant(winner.apiKey!)).status).toBe(200);
      expect((await asTenant(firstKey)).status).toBe(401);
      // A rotated key is kept for ROTATION_SETTLE_MS (one winner per burst): age it for the next round.
      await api.db
        .collection("clients")
        .updateOne(
          { clientCode: "raceclinic" },
          { $set: { apiKeyCreatedAt: new Date(Date.now() - ROTATION_SETTLE_MS - 1_000) } },
        );
    }
    // Right after a rotation, another one is refused the same way and the current key stays.
    const settled = await call("POST", "/api/clients/raceclinic/rotate-key", {
      "x-core-api-key": ADMIN_TOKEN,
    });
    expect(settled.status).toBe(200);
    const newest = ((await settled.json()) as { apiKey: string }).apiKey;
    const again = await call("POST", "/api/clients/raceclinic/rotate-key", { "x-core-api-key": ADMIN_TOKEN });
    expect(again.status).toBe(409);
    expect((await asTenant(newest)).status).toBe(200);
    // An unknown client is still a 404, not a conflict.
    const unknown = await call("POST", "/api/clients/nosuchclinic/rotate-key", {
      "x-core-api-key": ADMIN_TOKEN,
    });
    expect(unknown.status).toBe(404);
  });
});

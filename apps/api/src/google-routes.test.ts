import { randomBytes } from "node:crypto";
import { createConnectLinkSigner, GOOGLE_TOKENS_COLLECTION } from "@ecodrix/integrations";
import type { GoogleConfig } from "@ecodrix/platform";
import { type GoogleFake, startGoogleFake } from "@ecodrix/test-kit/fakes";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, startTestApi, type TestApi, tenantHeaders } from "../test/test-app.js";

const PUBLIC_URL = "https://api.clinic.test";

function googleConfigOf(fake: GoogleFake): GoogleConfig {
  return {
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    redirectUri: `${PUBLIC_URL}/api/auth/google/callback`,
    authUrl: fake.settings.GOOGLE_AUTH_URL,
    tokenUrl: fake.settings.GOOGLE_TOKEN_URL,
    revokeUrl: fake.settings.GOOGLE_REVOKE_URL,
    userinfoUrl: fake.settings.GOOGLE_USERINFO_URL,
    apiBaseUrl: fake.settings.GOOGLE_API_BASE_URL,
  };
}

/** Path and query of an absolute URL, for app.inject. */
const local = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
};

describe("Google Calendar connection routes", () => {
  let api: TestApi;
  let fake: GoogleFake;

  beforeAll(async () => {
    fake = await startGoogleFake({ redirectUris: [`${PUBLIC_URL}/api/auth/google/callback`] });
    api = await startTestApi({ config: { google: googleConfigOf(fake), publicUrl: PUBLIC_URL } });
  });
  afterAll(async () => {
    await api.close();
    await fake.stop();
  });

  async function createClient(
    name = "Dr. Sharma Clinic",
  ): Promise<{ clientCode: string; apiKey: string; name: string }> {
    const clientCode = `c-${randomBytes(4).toString("hex")}`;
    const res = await api.app.inject({
      method: "POST",
      url: "/api/clients",
      headers: admin,
      payload: { name, email: `contact@${clientCode}.example`, clientCode },
    });
    expect(res.statusCode).toBe(201);
    return { clientCode, apiKey: res.json<{ apiKey: string }>().apiKey, name };
  }

  async function adminLink(clientCode: string): Promise<{ id: string; url: string; expiresAt: string }> {
    const res = await api.app.inject({
      method: "POST",
      url: `/api/clients/${clientCode}/google/connect-link`,
      headers: admin,
    });
    expect(res.statusCode).toBe(201);
    return res.json();
  }

  /** Link → 302 to the fake's consent → (real HTTP) → 302 back → the callback URL. */
  async function consent(linkUrl: string, decision?: "deny", grantedScopes?: string): Promise<string> {
    const connect = await api.app.inject({ method: "GET", url: local(linkUrl) });
    expect(connect.statusCode).toBe(302);
    const consentUrl = new URL(String(connect.headers.location));
    if (decision) consentUrl.searchParams.set("fake_decision", decision);
    if (grantedScopes !== undefined) consentUrl.searchParams.set("fake_granted_scopes", grantedScopes);
    const answer = await fetch(consentUrl, { redirect: "manual" });
    expect(answer.status).toBe(302);
    return local(String(answer.headers.get("location")));
  }

  async function connect(linkUrl: string): Promise<LightMyRequestResponse> {
    return api.app.inject({ method: "GET", url: await consent(linkUrl) });
  }

  const status = async (clientCode: string, apiKey: string) =>
    (
      await api.app.inject({
        method: "GET",
        url: "/api/saas/google",
        headers: tenantHeaders(clientCode, apiKey),
      })
    ).json<{
      connected: boolean;
      email: string | null;
      connectedAt: string | null;
      reconnectRequired: boolean;
    }>();

  const expectHtml = (res: LightMyRequestResponse, statusCode: number, text: string) => {
    expect(res.statusCode).toBe(statusCode);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    expect(res.body).toContain(text);
  };

  it("an admin connect link: 201 with a signed URL on PUBLIC_URL that expires in 30 minutes", async () => {
    const { clientCode } = await createClient();
    const before = Date.now();
    const link = await adminLink(clientCode);
    const url = new URL(link.url);
    expect(`${url.origin}${url.pathname}`).toBe(`${PUBLIC_URL}/api/auth/google/connect`);
    expect(url.searchParams.get("clientCode")).toBe(clientCode);
    expect(url.searchParams.get("token")).toMatch(/^link\.[\w-]+\.[\w-]+$/);
    expect(link.id).toMatch(/^[0-9a-f]{32}$/);
    const expiresIn = Date.parse(link.expiresAt) - before;
    expect(expiresIn).toBeGreaterThan(29 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(30 * 60_000 + 1_000);

    const unknown = await api.app.inject({
      method: "POST",
      url: "/api/clients/nobody-here/google/connect-link",
      headers: admin,
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ message: "ClientCode not found" });
    const anonymous = await api.app.inject({
      method: "POST",
      url: `/api/clients/${clientCode}/google/connect-link`,
    });
    expect(anonymous.statusCode).toBe(401);
  });

  it("the connect page without a valid link: 401 with an HTML page saying how to get one", async () => {
    const { clientCode } = await createClient();
    const missing = await api.app.inject({
      method: "GET",
      url: `/api/auth/google/connect?clientCode=${clientCode}`,
    });
    expectHtml(missing, 401, "A connect link is needed");
    expect(missing.body).toContain(`POST /api/clients/${clientCode}/google/connect-link`);
    expect(missing.body).toContain("POST /api/saas/google/connect-link");

    const link = new URL((await adminLink(clientCode)).url);
    const token = link.searchParams.get("token") ?? "";
    const tampered = `${token.slice(0, -2)}${token.endsWith("AA") ? "BB" : "AA"}`;
    expectHtml(
      await api.app.inject({
        method: "GET",
        url: `/api/auth/google/connect?clientCode=${clientCode}&token=${tampered}`,
      }),
      401,
      "This connect link is not valid",
    );

    // A link signed with the server's key but already past its 30 minutes.
    const client = (
      await api.app.inject({ method: "GET", url: `/api/clients/${clientCode}`, headers: admin })
    ).json<{
      createdAt: string;
    }>();
    const oldSigner = createConnectLinkSigner({
      key: api.keys[0] as Buffer,
      now: () => Date.now() - 31 * 60_000,
    });
    const expired = oldSigner.issueLink(clientCode, client.createdAt).token;
    expectHtml(
      await api.app.inject({
        method: "GET",
        url: `/api/auth/google/connect?clientCode=${clientCode}&token=${expired}`,
      }),
      401,
      "This connect link has expired",
    );

    // A link signed with another key (another deployment, or forged).
    const foreign = createConnectLinkSigner({ key: randomBytes(32) }).issueLink(
      clientCode,
      client.createdAt,
    ).token;
    expectHtml(
      await api.app.inject({
        method: "GET",
        url: `/api/auth/google/connect?clientCode=${clientCode}&token=${foreign}`,
      }),
      401,
      "This connect link is not valid",
    );
    expect(
      fake.requests.filter(
        (request) => request.path === "/o/oauth2/v2/auth" && request.query.client_id === "x",
      ),
    ).toHaveLength(0);
  });

  it("a valid link redirects to the consent screen: offline access, consent prompt, both scopes, a signed state", async () => {
    const { clientCode } = await createClient();
    const res = await api.app.inject({ method: "GET", url: local((await adminLink(clientCode)).url) });
    expect(res.statusCode).toBe(302);
    expect(res.headers["cache-control"]).toBe("no-store");
    const location = new URL(String(res.headers.location));
    expect(`${location.origin}${location.pathname}`).toBe(fake.settings.GOOGLE_AUTH_URL);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      access_type: "offline",
      prompt: "consent",
      response_type: "code",
      client_id: fake.clientId,
      redirect_uri: `${PUBLIC_URL}/api/auth/google/callback`,
    });
    expect(location.searchParams.get("scope")?.split(" ").sort()).toEqual([
      "https://www.googleapis.com/auth/calendar.events",
      "https://www.googleapis.com/auth/userinfo.email",
    ]);
    expect(location.searchParams.get("state")).toMatch(/^state\.[\w-]+\.[\w-]+$/);
  });

  it("the callback stores the refresh token encrypted with the account's e-mail and says who is connected", async () => {
    const { clientCode, apiKey, name } = await createClient();
    fake.setAccountEmail(`doctor@${clientCode}.example`);
    const res = await connect((await adminLink(clientCode)).url);
    expectHtml(res, 200, `Google Calendar connected for ${name} (${clientCode})`);
    expect(res.body).toContain(`doctor@${clientCode}.example`);

    const issued = fake.refreshTokens().filter((token) => token.email === `doctor@${clientCode}.example`);
    expect(issued).toHaveLength(1);
    const stored = await api.db.collection(GOOGLE_TOKENS_COLLECTION).findOne({ clientCode });
    expect(stored?.email).toBe(`doctor@${clientCode}.example`);
    expect(String(stored?.refreshToken)).toMatch(/^ecx1:/);
    expect(JSON.stringify(stored)).not.toContain(issued[0]?.token);
    expect(
      api.tenancy.crypto.decrypt(String(stored?.refreshToken), { clientCode, field: "refreshToken" }),
    ).toBe(issued[0]?.token);

    const view = await status(clientCode, apiKey);
    expect(view).toMatchObject({
      connected: true,
      email: `doctor@${clientCode}.example`,
      reconnectRequired: false,
    });
    expect(Date.now() - Date.parse(view.connectedAt ?? "")).toBeLessThan(60_000);
  });

  it("a link connects once: a replayed callback and a reopened link are refused; older unused links still work", async () => {
    const { clientCode, name } = await createClient();
    const first = await adminLink(clientCode);
    const second = await adminLink(clientCode);

    // The link may be opened twice before it is used (a reload), and each consent is separate.
    const callback = await consent(second.url);
    const unusedCallback = await consent(second.url);
    expectHtml(await api.app.inject({ method: "GET", url: callback }), 200, "Google Calendar connected");
    const replay = await api.app.inject({ method: "GET", url: callback });
    expectHtml(replay, 400, "This connect link has already been used");
    expect(replay.body).toContain(`${name} (${clientCode})`);
    expectHtml(await api.app.inject({ method: "GET", url: unusedCallback }), 400, "already been used");
    expectHtml(
      await api.app.inject({ method: "GET", url: local(second.url) }),
      401,
      "This connect link has been used",
    );

    // Issuing the second link did not revoke the first, which connects (replacing the connection).
    const replaced = await api.db.collection(GOOGLE_TOKENS_COLLECTION).findOne({ clientCode });
    const replacedToken = api.tenancy.crypto.decrypt(String(replaced?.refreshToken), {
      clientCode,
      field: "refreshToken",
    });
    fake.setAccountEmail(`other@${clientCode}.example`);
    expectHtml(await connect(first.url), 200, "Google Calendar connected");
    const stored = await api.db.collection(GOOGLE_TOKENS_COLLECTION).find({ clientCode }).toArray();
    expect(stored).toHaveLength(1);
    expect(stored[0]?.email).toBe(`other@${clientCode}.example`);
    // The replaced account's token was revoked at Google.
    expect(fake.refreshTokens().find((token) => token.token === replacedToken)?.valid).toBe(false);
  });

  it("denied consent: 400 page saying what to do, nothing stored, and the link can be tried again", async () => {
    const { clientCode, apiKey, name } = await createClient();
    const link = await adminLink(clientCode);
    const denied = await api.app.inject({ method: "GET", url: await consent(link.url, "deny") });
    expectHtml(denied, 400, "Google Calendar was not connected");
    expect(denied.body).toContain(
      `Access was not allowed on Google&#39;s consent screen, so nothing was connected for ${name} (${clientCode})`,
    );
    expect(denied.body).toContain("open the connect link again");
    expect(await status(clientCode, apiKey)).toMatchObject({ connected: false, email: null });

    expectHtml(await connect(link.url), 200, "Google Calendar connected");
  });

  it("consent without calendar access: 400 page asking to tick it, the token revoked, nothing stored", async () => {
    const { clientCode, apiKey } = await createClient();
    fake.setAccountEmail(`nocal@${clientCode}.example`);
    const link = await adminLink(clientCode);
    const callback = await consent(link.url, undefined, "https://www.googleapis.com/auth/userinfo.email");
    const res = await api.app.inject({ method: "GET", url: callback });
    expectHtml(res, 400, "Calendar access was not allowed");
    expect(res.body).toContain("tick the calendar permission");
    expect(
      fake
        .refreshTokens()
        .filter((token) => token.email === `nocal@${clientCode}.example`)
        .map((token) => token.valid),
    ).toEqual([false]);
    expect(await status(clientCode, apiKey)).toMatchObject({ connected: false });
    // The link was not used up: with calendar access ticked it connects.
    expectHtml(await connect(link.url), 200, "Google Calendar connected");
  });

  it("a missing, forged or foreign state is a 400 page and nothing is exchanged", async () => {
    const { clientCode } = await createClient();
    const callback = new URL(await consent((await adminLink(clientCode)).url), PUBLIC_URL);
    const code = callback.searchParams.get("code") ?? "";
    const tokenCalls = () => fake.requests.filter((request) => request.path === "/token").length;
    const before = tokenCalls();

    expectHtml(
      await api.app.inject({ method: "GET", url: `/api/auth/google/callback?code=${code}` }),
      400,
      "This sign-in response cannot be used",
    );
    const state = callback.searchParams.get("state") ?? "";
    const forged = state.replace(/\.[\w-]+$/, ".AAAA");
    expectHtml(
      await api.app.inject({ method: "GET", url: `/api/auth/google/callback?code=${code}&state=${forged}` }),
      400,
      "This sign-in response cannot be used",
    );
    // A link token is not a state (the signature covers its purpose).
    const linkToken = new URL((await adminLink(clientCode)).url).searchParams.get("token");
    expectHtml(
      await api.app.inject({
        method: "GET",
        url: `/api/auth/google/callback?code=${code}&state=${linkToken}`,
      }),
      400,
      "This sign-in response cannot be used",
    );
    expectHtml(
      await api.app.inject({ method: "GET", url: "/api/auth/google/callback?state=a&state=b" }),
      400,
      "malformed",
    );
    expect(tokenCalls()).toBe(before);
  });

  it("every value in the pages is escaped", async () => {
    const { clientCode } = await createClient(`<script>alert("x")</script> & Sons`);
    const res = await connect((await adminLink(clientCode)).url);
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain("<script>");
    expect(res.body).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Sons");
    expect(res.headers["content-security-policy"]).toContain("default-src 'none'");

    const odd = await api.app.inject({
      method: "GET",
      url: `/api/auth/google/connect?clientCode=${encodeURIComponent("<b>x</b>")}`,
    });
    expect(odd.statusCode).toBe(401);
    expect(odd.body).not.toContain("<b>x</b>");
  });

  it("the tenant routes: its own link, status and disconnect (revoked at Google)", async () => {
    const { clientCode, apiKey } = await createClient();
    const headers = tenantHeaders(clientCode, apiKey);
    const linkRes = await api.app.inject({ method: "POST", url: "/api/saas/google/connect-link", headers });
    expect(linkRes.statusCode).toBe(201);
    const link = linkRes.json<{ url: string }>();
    expect(new URL(link.url).searchParams.get("clientCode")).toBe(clientCode);
    fake.setAccountEmail(`tenant@${clientCode}.example`);
    expectHtml(await connect(link.url), 200, "Google Calendar connected");
    const token = fake.refreshTokens().find((issued) => issued.email === `tenant@${clientCode}.example`);
    expect(token?.valid).toBe(true);

    const removed = await api.app.inject({ method: "DELETE", url: "/api/saas/google", headers });
    expect(removed.statusCode).toBe(200);
    expect(removed.json()).toEqual({
      connected: false,
      email: `tenant@${clientCode}.example`,
      revoked: true,
    });
    expect(fake.refreshTokens().find((issued) => issued.token === token?.token)?.valid).toBe(false);
    expect(await api.db.collection(GOOGLE_TOKENS_COLLECTION).countDocuments({ clientCode })).toBe(0);
    expect(await status(clientCode, apiKey)).toEqual({
      connected: false,
      email: null,
      connectedAt: null,
      reconnectRequired: false,
    });

    const again = await api.app.inject({ method: "DELETE", url: "/api/saas/google", headers });
    expect(again.statusCode).toBe(404);
    expect(again.json()).toMatchObject({
      code: "ECODRIX_GOOGLE_NOT_CONNECTED",
      message: `Google Calendar is not connected for ${clientCode}`,
    });
  });

  it("isolation: a tenant sees and disconnects only its own connection, and a link works for its own client only", async () => {
    const a = await createClient("Clinic A");
    const b = await createClient("Clinic B");
    fake.setAccountEmail(`a@${a.clientCode}.example`);
    expectHtml(await connect((await adminLink(a.clientCode)).url), 200, "connected for Clinic A");

    expect(await status(b.clientCode, b.apiKey)).toMatchObject({ connected: false, email: null });
    const wrongDelete = await api.app.inject({
      method: "DELETE",
      url: "/api/saas/google",
      headers: tenantHeaders(b.clientCode, b.apiKey),
    });
    expect(wrongDelete.statusCode).toBe(404);
    expect(await status(a.clientCode, a.apiKey)).toMatchObject({
      connected: true,
      email: `a@${a.clientCode}.example`,
    });

    // A's link presented for B: refused before Google is involved.
    const aToken = new URL((await adminLink(a.clientCode)).url).searchParams.get("token");
    const crossed = await api.app.inject({
      method: "GET",
      url: `/api/auth/google/connect?clientCode=${b.clientCode}&token=${aToken}`,
    });
    expectHtml(crossed, 401, "This connect link is not valid");

    // B's key cannot make a link for A: the tenant route takes the code from the authenticated client.
    const bLink = (
      await api.app.inject({
        method: "POST",
        url: "/api/saas/google/connect-link",
        headers: { ...tenantHeaders(b.clientCode, b.apiKey), "x-client-code": b.clientCode },
      })
    ).json<{ url: string }>();
    expect(new URL(bLink.url).searchParams.get("clientCode")).toBe(b.clientCode);
    const bWithA = await api.app.inject({
      method: "POST",
      url: "/api/saas/google/connect-link",
      headers: tenantHeaders(a.clientCode, b.apiKey),
    });
    expect(bWithA.statusCode).toBe(401);
  });

  it("googleStatus reconnect_required shows on GET /api/clients/:code and a new connection clears it", async () => {
    const { clientCode, apiKey } = await createClient();
    expectHtml(await connect((await adminLink(clientCode)).url), 200, "connected");
    await api.db
      .collection(GOOGLE_TOKENS_COLLECTION)
      .updateOne({ clientCode }, { $set: { status: "reconnect_required" } });
    await api.tenancy.clients.setIntegrationStatus(clientCode, "googleStatus", "reconnect_required");

    const view = await api.app.inject({ method: "GET", url: `/api/clients/${clientCode}`, headers: admin });
    expect(view.json()).toMatchObject({ clientCode, googleStatus: "reconnect_required" });
    expect(await status(clientCode, apiKey)).toMatchObject({ connected: false, reconnectRequired: true });

    expectHtml(await connect((await adminLink(clientCode)).url), 200, "connected");
    const after = (
      await api.app.inject({ method: "GET", url: `/api/clients/${clientCode}`, headers: admin })
    ).json();
    expect(after).not.toHaveProperty("googleStatus");
    expect(await status(clientCode, apiKey)).toMatchObject({ connected: true, reconnectRequired: false });
  });

  it("offboarding removes the client's Google token", async () => {
    const { clientCode } = await createClient();
    expectHtml(await connect((await adminLink(clientCode)).url), 200, "connected");
    const res = await api.app.inject({ method: "DELETE", url: `/api/clients/${clientCode}`, headers: admin });
    expect(res.json()).toMatchObject({ deleted: { googleTokens: 1 } });
    expect(await api.db.collection(GOOGLE_TOKENS_COLLECTION).countDocuments({ clientCode })).toBe(0);
  });

  it("no link token, OAuth code, access or refresh token reaches the logs", async () => {
    const { clientCode } = await createClient();
    const link = await adminLink(clientCode);
    const callback = await consent(link.url);
    await api.app.inject({ method: "GET", url: callback });
    const logs = api.logs();
    const linkToken = new URL(link.url).searchParams.get("token") ?? "";
    const callbackParams = new URL(callback, PUBLIC_URL).searchParams;
    expect(logs).toContain("/api/auth/google/connect?clientCode=");
    for (const secret of [
      linkToken,
      callbackParams.get("code") ?? "",
      callbackParams.get("state") ?? "",
      ...fake.refreshTokens().map((t) => t.token),
    ]) {
      expect(secret.length).toBeGreaterThan(10);
      expect(logs).not.toContain(secret);
    }
    expect(logs).not.toContain(ADMIN_TOKEN);
  });
});

describe("Google routes without GOOGLE_CLIENT_ID/GOOGLE_CLIENT_SECRET", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  it("answer 503 with a clear message (JSON for the API, HTML for the browser pages)", async () => {
    const res = await api.app.inject({
      method: "POST",
      url: "/api/clients",
      headers: admin,
      payload: { name: "No Google", email: "a@nogoogle.example" },
    });
    const { clientCode, apiKey } = res.json<{ clientCode: string; apiKey: string }>();
    const expected = {
      statusCode: 503,
      code: "ECODRIX_GOOGLE_NOT_CONFIGURED",
      message: expect.stringContaining("set GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET"),
    };
    const adminLink = await api.app.inject({
      method: "POST",
      url: `/api/clients/${clientCode}/google/connect-link`,
      headers: admin,
    });
    expect(adminLink.statusCode).toBe(503);
    expect(adminLink.json()).toMatchObject(expected);
    for (const method of ["GET", "DELETE"] as const) {
      const tenantRes = await api.app.inject({
        method,
        url: "/api/saas/google",
        headers: tenantHeaders(clientCode, apiKey),
      });
      expect(tenantRes.statusCode).toBe(503);
      expect(tenantRes.json()).toMatchObject(expected);
    }
    const tenantLink = await api.app.inject({
      method: "POST",
      url: "/api/saas/google/connect-link",
      headers: tenantHeaders(clientCode, apiKey),
    });
    expect(tenantLink.json()).toMatchObject(expected);
    for (const url of [
      `/api/auth/google/connect?clientCode=${clientCode}&token=x`,
      "/api/auth/google/callback?state=x&code=y",
    ]) {
      const page = await api.app.inject({ method: "GET", url });
      expect(page.statusCode).toBe(503);
      expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(page.body).toContain("GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET");
    }
  });

  it("the sandbox outbox does not exist outside sandbox mode", async () => {
    const res = await api.app.inject({ method: "GET", url: "/api/sandbox/outbox", headers: admin });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: "ECODRIX_ROUTE_NOT_FOUND" });
  });
});

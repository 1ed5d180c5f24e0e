import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GoogleFake, startGoogleFake } from "./google-fake.js";

const REDIRECT = "http://app.test/api/auth/google/callback";
const SCOPES =
  "https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/userinfo.email";

/** The fake keeps Google's documented rules; the product's tests rely on them. */
describe("Google fake", () => {
  let fake: GoogleFake;
  beforeAll(async () => {
    fake = await startGoogleFake({ redirectUris: [REDIRECT], accountEmail: "dr@clinic.test" });
  });
  afterAll(() => fake.stop());

  async function authorize(params: Record<string, string> = {}): Promise<URL> {
    const url = new URL(fake.settings.GOOGLE_AUTH_URL);
    for (const [name, value] of Object.entries({
      client_id: fake.clientId,
      redirect_uri: REDIRECT,
      response_type: "code",
      scope: SCOPES,
      access_type: "offline",
      state: "s1",
      ...params,
    }))
      url.searchParams.set(name, value);
    const res = await fetch(url, { redirect: "manual" });
    expect(res.status).toBe(302);
    return new URL(String(res.headers.get("location")));
  }

  const token = (body: Record<string, string>) =>
    fetch(fake.settings.GOOGLE_TOKEN_URL, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: fake.clientId, client_secret: fake.clientSecret, ...body }),
    });

  it("consent → single-use code → tokens; offline access only with access_type=offline", async () => {
    const back = await authorize();
    expect(back.searchParams.get("state")).toBe("s1");
    const code = back.searchParams.get("code") ?? "";
    const first = await token({ grant_type: "authorization_code", code, redirect_uri: REDIRECT });
    expect(first.status).toBe(200);
    const tokens = (await first.json()) as { access_token: string; refresh_token?: string; scope: string };
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.scope).toBe(SCOPES);
    const again = await token({ grant_type: "authorization_code", code, redirect_uri: REDIRECT });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: "invalid_grant" });

    const online = await authorize({ access_type: "online" });
    const onlineTokens = (await (
      await token({
        grant_type: "authorization_code",
        code: online.searchParams.get("code") ?? "",
        redirect_uri: REDIRECT,
      })
    ).json()) as { refresh_token?: string };
    expect(onlineTokens.refresh_token).toBeUndefined();

    const user = await fetch(fake.settings.GOOGLE_USERINFO_URL, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(await user.json()).toMatchObject({ email: "dr@clinic.test", email_verified: true });
  });

  it("refuses an unregistered redirect URI and a wrong client secret; denial redirects with access_denied", async () => {
    const url = new URL(fake.settings.GOOGLE_AUTH_URL);
    url.search = new URLSearchParams({
      client_id: fake.clientId,
      redirect_uri: "http://evil.test/cb",
      response_type: "code",
      scope: SCOPES,
    }).toString();
    const mismatch = await fetch(url, { redirect: "manual" });
    expect(mismatch.status).toBe(400);
    expect(await mismatch.text()).toContain("redirect_uri_mismatch");

    const badSecret = await token({ grant_type: "refresh_token", refresh_token: "x", client_secret: "nope" });
    expect(badSecret.status).toBe(401);
    expect(await badSecret.json()).toMatchObject({ error: "invalid_client" });

    const denied = await authorize({ fake_decision: "deny" });
    expect(denied.searchParams.get("error")).toBe("access_denied");
    expect(denied.searchParams.get("code")).toBeNull();
  });

  it("a revoked or failed refresh token answers invalid_grant, and its access tokens stop working", async () => {
    const refresh = fake.issueRefreshToken("dr@clinic.test");
    const ok = (await (await token({ grant_type: "refresh_token", refresh_token: refresh })).json()) as {
      access_token: string;
    };
    const revoke = await fetch(`${fake.settings.GOOGLE_REVOKE_URL}?token=${encodeURIComponent(refresh)}`, {
      method: "POST",
    });
    expect(revoke.status).toBe(200);
    expect(await (await token({ grant_type: "refresh_token", refresh_token: refresh })).json()).toMatchObject(
      {
        error: "invalid_grant",
        error_description: "Token has been expired or revoked.",
      },
    );
    const user = await fetch(fake.settings.GOOGLE_USERINFO_URL, {
      headers: { authorization: `Bearer ${ok.access_token}` },
    });
    expect(user.status).toBe(401);
    const twice = await fetch(`${fake.settings.GOOGLE_REVOKE_URL}?token=${encodeURIComponent(refresh)}`, {
      method: "POST",
    });
    expect(await twice.json()).toMatchObject({ error: "invalid_token" });

    const failing = fake.issueRefreshToken("dr@clinic.test");
    fake.failRefreshToken(failing);
    expect((await token({ grant_type: "refresh_token", refresh_token: failing })).status).toBe(400);
  });

  it("events.insert: a Meet only with conferenceDataVersion=1; a client-specified id is unique (409 duplicate)", async () => {
    const refresh = fake.issueRefreshToken("cal@clinic.test");
    const { access_token } = (await (
      await token({ grant_type: "refresh_token", refresh_token: refresh })
    ).json()) as {
      access_token: string;
    };
    const insert = (query: string, body: Record<string, unknown>) =>
      fetch(`${fake.settings.GOOGLE_API_BASE_URL}calendar/v3/calendars/primary/events${query}`, {
        method: "POST",
        headers: { authorization: `Bearer ${access_token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const event = {
      id: "0123456789abcdef01234567",
      summary: "Check-up",
      start: { dateTime: "2026-03-02T10:00:00Z" },
      end: { dateTime: "2026-03-02T10:30:00Z" },
      conferenceData: { createRequest: { requestId: "r1", conferenceSolutionKey: { type: "hangoutsMeet" } } },
    };
    const withMeet = await insert("?conferenceDataVersion=1", event);
    expect(withMeet.status).toBe(200);
    const created = (await withMeet.json()) as { id: string; hangoutLink: string };
    expect(created.id).toBe(event.id);
    expect(created.hangoutLink).toMatch(/^https:\/\/meet\.google\.com\//);

    const duplicate = await insert("?conferenceDataVersion=1", event);
    expect(duplicate.status).toBe(409);
    expect(await duplicate.json()).toMatchObject({ error: { code: 409, errors: [{ reason: "duplicate" }] } });

    const noVersion = (await (await insert("", { ...event, id: undefined })).json()) as {
      hangoutLink?: string;
    };
    expect(noVersion.hangoutLink).toBeUndefined();
    expect((await insert("", { ...event, id: "NOT-base32hex" })).status).toBe(400);

    const read = await fetch(
      `${fake.settings.GOOGLE_API_BASE_URL}calendar/v3/calendars/primary/events/${event.id}`,
      {
        headers: { authorization: `Bearer ${access_token}` },
      },
    );
    expect(((await read.json()) as { hangoutLink: string }).hangoutLink).toBe(created.hangoutLink);
    expect(fake.events.filter((e) => e.calendar === "cal@clinic.test")).toHaveLength(2);
  });
});

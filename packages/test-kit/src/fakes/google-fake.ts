import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { CapturedMessage, SandboxFake, SandboxFakeEntry } from "./sandbox-fake.js";

/**
 * A fake of the Google endpoints the product calls: the OAuth consent page, token, revoke and OpenID
 * userinfo endpoints, and Calendar v3 `events.insert` / `events.get`. A real HTTP server on a free
 * loopback port, answering in Google's shapes (error bodies included), so the product's real clients
 * (google-auth-library, googleapis) talk to it unchanged.
 *
 * Behaviour kept from Google's documentation:
 * - the consent page redirects to `redirect_uri` with `code` and `state` (or `error=access_denied`);
 *   a refresh token is issued only for `access_type=offline`;
 * - authorization codes are single-use; a refresh token that was revoked (or marked with
 *   `failRefreshToken`) answers `invalid_grant`; revoking a refresh token also kills its access tokens;
 * - a client-specified event `id` (base32hex, 5–1024 characters) is unique per calendar: inserting it
 *   again answers 409 `duplicate`;
 * - `conferenceData.createRequest` is honoured only with `conferenceDataVersion=1`; a `requestId`
 *   already seen on the calendar yields the same conference (Google ignores a repeated create request).
 */
export interface GoogleFakeOptions {
  clientId?: string;
  clientSecret?: string;
  /** The Google account that consents (a `login_hint` on the consent URL overrides it). */
  accountEmail?: string;
  /**
   * The consent page approves (default) or denies at once; `?fake_decision=deny` overrides per request, and
   * `?fake_granted_scopes=<space-separated>` grants only those of the requested scopes (unticked boxes).
   */
  consent?: "approve" | "deny";
  /** When set, the consent page refuses any other redirect_uri (`redirect_uri_mismatch`), as Google does. */
  redirectUris?: string[];
}

export interface RecordedGoogleRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Parsed JSON or form body (undefined when empty). */
  body: unknown;
  authorization: string | undefined;
  at: Date;
}

export interface FakeCalendarEvent {
  /** The calendar owner (the account whose token created it). */
  calendar: string;
  id: string;
  requestId: string | undefined;
  summary: string;
  start: string;
  end: string;
  attendees: string[];
  meetUrl: string | undefined;
  createdAt: Date;
  /** The event as the API returns it. */
  resource: Record<string, unknown>;
}

export interface InjectedResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface GoogleFake {
  /** Root of the server, without a trailing slash. */
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The product's settings that point at this fake. */
  readonly settings: {
    GOOGLE_CLIENT_ID: string;
    GOOGLE_CLIENT_SECRET: string;
    GOOGLE_AUTH_URL: string;
    GOOGLE_TOKEN_URL: string;
    GOOGLE_REVOKE_URL: string;
    GOOGLE_USERINFO_URL: string;
    GOOGLE_API_BASE_URL: string;
  };
  /** Every request received, oldest first. */
  readonly requests: RecordedGoogleRequest[];
  /** Every calendar event created, oldest first. */
  readonly events: FakeCalendarEvent[];
  /** Refresh tokens issued, with their account and whether they are still valid. */
  refreshTokens(): Array<{ token: string; email: string; scopes: string[]; valid: boolean }>;
  setConsent(decision: "approve" | "deny"): void;
  setAccountEmail(email: string): void;
  /** From now on this refresh token answers `invalid_grant` (revoked by the user, expired, password change). */
  failRefreshToken(token: string): void;
  /** Creates a valid refresh token for `email` directly, as if a consent had happened. */
  issueRefreshToken(email: string, scopes?: string[]): string;
  /** The next events.insert creates the event, then waits this long before answering (a client timeout). */
  delayNextInsert(ms: number): void;
  /** The next events.insert answers this instead of creating anything (429, 500, 403 …). */
  failNextInsert(response: InjectedResponse): void;
  stop(): Promise<void>;
}

const SCOPE_CALENDAR_EVENTS = "https://www.googleapis.com/auth/calendar.events";
const EVENT_ID_PATTERN = /^[a-v0-9]{5,1024}$/;

interface Grant {
  email: string;
  scopes: string[];
  redirectUri: string;
  offline: boolean;
  used: boolean;
}

interface RefreshState {
  email: string;
  scopes: string[];
  valid: boolean;
}

interface AccessState {
  email: string;
  scopes: string[];
  refreshToken: string | undefined;
  valid: boolean;
}

function token(prefix: string): string {
  return `${prefix}${randomBytes(24).toString("base64url")}`;
}

/** A Meet code as Google formats them: `abc-defg-hij`. */
function meetCode(): string {
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const pick = (n: number) =>
    Array.from(randomBytes(n), (byte) => letters[byte % letters.length] ?? "a").join("");
  return `${pick(3)}-${pick(4)}-${pick(3)}`;
}

function calendarError(status: number, reason: string, message: string): InjectedResponse {
  return {
    status,
    body: { error: { code: status, message, errors: [{ domain: "global", reason, message }] } },
  };
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.length === 0) return undefined;
  const type = request.headers["content-type"] ?? "";
  if (type.includes("application/json")) return JSON.parse(text) as unknown;
  if (type.includes("application/x-www-form-urlencoded"))
    return Object.fromEntries(new URLSearchParams(text));
  return text;
}

function send(response: ServerResponse, { status, body, headers }: InjectedResponse): void {
  const isText = typeof body === "string";
  response.writeHead(status, {
    "content-type": isText ? "text/html; charset=utf-8" : "application/json; charset=utf-8",
    ...headers,
  });
  response.end(isText ? body : JSON.stringify(body));
}

export async function startGoogleFake(options: GoogleFakeOptions = {}): Promise<GoogleFake> {
  const clientId = options.clientId ?? "sandbox-client.apps.googleusercontent.com";
  const clientSecret = options.clientSecret ?? `sandbox-secret-${randomBytes(8).toString("hex")}`;
  let accountEmail = options.accountEmail ?? "calendar@sandbox.example";
  let consent = options.consent ?? "approve";
  const requests: RecordedGoogleRequest[] = [];
  const events: FakeCalendarEvent[] = [];
  const grants = new Map<string, Grant>();
  const refreshTokens = new Map<string, RefreshState>();
  const accessTokens = new Map<string, AccessState>();
  /** Per calendar and requestId: the conference a repeated create request gets. */
  const conferences = new Map<string, { conferenceId: string; meetUrl: string }>();
  const pendingDelays: number[] = [];
  const pendingFailures: InjectedResponse[] = [];

  function issueAccessToken(email: string, scopes: string[], refreshToken: string | undefined): string {
    const access = token("ya29.fake-");
    accessTokens.set(access, { email, scopes, refreshToken, valid: true });
    return access;
  }

  function bearer(request: IncomingMessage): AccessState | undefined {
    const header = request.headers.authorization ?? "";
    const match = /^Bearer (.+)$/.exec(header);
    if (!match?.[1]) return undefined;
    const state = accessTokens.get(match[1]);
    if (!state?.valid) return undefined;
    if (state.refreshToken && !refreshTokens.get(state.refreshToken)?.valid) return undefined;
    return state;
  }

  function consentPage(query: URLSearchParams): InjectedResponse {
    const redirectUri = query.get("redirect_uri");
    const problem = (error: string, detail: string): InjectedResponse => ({
      status: 400,
      body: `<!doctype html><title>Error 400: ${error}</title><h1>Access blocked: ${error}</h1><p>${escapeHtml(detail)}</p>`,
    });
    if (query.get("client_id") !== clientId) {
      return {
        status: 401,
        body: "<!doctype html><title>Error 401: invalid_client</title><h1>The OAuth client was not found.</h1>",
      };
    }
    if (!redirectUri) return problem("invalid_request", "Missing required parameter: redirect_uri");
    if (options.redirectUris && !options.redirectUris.includes(redirectUri)) {
      return problem(
        "redirect_uri_mismatch",
        `The redirect URI ${redirectUri} is not registered for this client.`,
      );
    }
    if (query.get("response_type") !== "code")
      return problem("invalid_request", "response_type must be code");
    const requested = (query.get("scope") ?? "").split(/\s+/).filter(Boolean);
    if (requested.length === 0) return problem("invalid_request", "Missing required parameter: scope");
    // Google's granular consent lets the user untick scopes: `fake_granted_scopes` plays that user.
    const granted = query.get("fake_granted_scopes");
    const scopes =
      granted === null ? requested : requested.filter((scope) => granted.split(/\s+/).includes(scope));
    const target = new URL(redirectUri);
    const state = query.get("state");
    const decision = query.get("fake_decision") ?? consent;
    if (decision === "deny") {
      target.searchParams.set("error", "access_denied");
    } else {
      const code = token("4/fake-");
      grants.set(code, {
        email: query.get("login_hint") ?? accountEmail,
        scopes,
        redirectUri,
        offline: query.get("access_type") === "offline",
        used: false,
      });
      target.searchParams.set("code", code);
      target.searchParams.set("scope", scopes.join(" "));
    }
    if (state !== null) target.searchParams.set("state", state);
    return { status: 302, body: "", headers: { location: target.toString() } };
  }

  function tokenEndpoint(body: Record<string, string>, authorization: string | undefined): InjectedResponse {
    let id = body.client_id;
    let secret = body.client_secret;
    const basic = /^Basic (.+)$/.exec(authorization ?? "")?.[1];
    if (basic) [id, secret] = Buffer.from(basic, "base64").toString("utf8").split(":");
    if (id !== clientId || secret !== clientSecret) {
      return { status: 401, body: { error: "invalid_client", error_description: "Unauthorized" } };
    }
    const invalidGrant = (description: string): InjectedResponse => ({
      status: 400,
      body: { error: "invalid_grant", error_description: description },
    });
    if (body.grant_type === "authorization_code") {
      const grant = body.code ? grants.get(body.code) : undefined;
      if (!grant || grant.used) return invalidGrant("Malformed auth code.");
      if (grant.redirectUri !== body.redirect_uri) {
        return { status: 400, body: { error: "redirect_uri_mismatch", error_description: "Bad Request" } };
      }
      grant.used = true;
      let refresh: string | undefined;
      if (grant.offline) {
        refresh = token("1//fake-");
        refreshTokens.set(refresh, { email: grant.email, scopes: grant.scopes, valid: true });
      }
      return {
        status: 200,
        body: {
          access_token: issueAccessToken(grant.email, grant.scopes, refresh),
          expires_in: 3599,
          ...(refresh ? { refresh_token: refresh } : {}),
          scope: grant.scopes.join(" "),
          token_type: "Bearer",
        },
      };
    }
    if (body.grant_type === "refresh_token") {
      const state = body.refresh_token ? refreshTokens.get(body.refresh_token) : undefined;
      if (!state?.valid) return invalidGrant("Token has been expired or revoked.");
      return {
        status: 200,
        body: {
          access_token: issueAccessToken(state.email, state.scopes, body.refresh_token),
          expires_in: 3599,
          scope: state.scopes.join(" "),
          token_type: "Bearer",
        },
      };
    }
    return {
      status: 400,
      body: { error: "unsupported_grant_type", error_description: "Invalid grant_type" },
    };
  }

  function revokeEndpoint(value: string | undefined): InjectedResponse {
    const refresh = value ? refreshTokens.get(value) : undefined;
    const access = value ? accessTokens.get(value) : undefined;
    if (refresh?.valid) {
      refresh.valid = false;
      for (const state of accessTokens.values()) if (state.refreshToken === value) state.valid = false;
      return { status: 200, body: {} };
    }
    if (access?.valid) {
      access.valid = false;
      return { status: 200, body: {} };
    }
    return { status: 400, body: { error: "invalid_token", error_description: "Token expired or revoked" } };
  }

  async function insertEvent(
    calendarId: string,
    query: URLSearchParams,
    body: unknown,
    caller: AccessState,
    response: ServerResponse,
  ): Promise<void> {
    if (calendarId !== "primary" && calendarId !== caller.email) {
      return send(response, calendarError(404, "notFound", "Not Found"));
    }
    const injected = pendingFailures.shift();
    if (injected) return send(response, injected);
    const input = (body ?? {}) as Record<string, unknown>;
    const start = (input.start as { dateTime?: string } | undefined)?.dateTime;
    const end = (input.end as { dateTime?: string } | undefined)?.dateTime;
    if (!start || !end || Number.isNaN(Date.parse(start)) || Number.isNaN(Date.parse(end))) {
      return send(response, calendarError(400, "required", "Missing end time."));
    }
    if (Date.parse(end) <= Date.parse(start)) {
      return send(response, calendarError(400, "timeRangeEmpty", "The specified time range is empty."));
    }
    const requestedId = typeof input.id === "string" ? input.id : undefined;
    if (requestedId !== undefined && !EVENT_ID_PATTERN.test(requestedId)) {
      return send(response, calendarError(400, "invalid", "Invalid resource id value."));
    }
    if (requestedId && events.some((event) => event.calendar === caller.email && event.id === requestedId)) {
      return send(response, calendarError(409, "duplicate", "The requested identifier already exists."));
    }
    const id = requestedId ?? randomUUID().replaceAll("-", "").replace(/[w-z]/g, "v");
    const createRequest = (input.conferenceData as { createRequest?: Record<string, unknown> } | undefined)
      ?.createRequest;
    const requestId = typeof createRequest?.requestId === "string" ? createRequest.requestId : undefined;
    let conferenceData: Record<string, unknown> | undefined;
    let meetUrl: string | undefined;
    if (createRequest && query.get("conferenceDataVersion") === "1") {
      const key = `${caller.email} ${requestId ?? id}`;
      let conference = conferences.get(key);
      if (!conference) {
        const code = meetCode();
        conference = { conferenceId: code, meetUrl: `https://meet.google.com/${code}` };
        conferences.set(key, conference);
      }
      meetUrl = conference.meetUrl;
      conferenceData = {
        createRequest: { ...createRequest, status: { statusCode: "success" } },
        entryPoints: [{ entryPointType: "video", uri: meetUrl, label: meetUrl.replace("https://", "") }],
        conferenceSolution: { key: { type: "hangoutsMeet" }, name: "Google Meet" },
        conferenceId: conference.conferenceId,
      };
    }
    const attendees = Array.isArray(input.attendees)
      ? (input.attendees as Array<{ email?: unknown }>).map((attendee) => String(attendee.email ?? ""))
      : [];
    const now = new Date();
    const resource: Record<string, unknown> = {
      kind: "calendar#event",
      etag: `"${Date.now()}"`,
      id,
      status: "confirmed",
      htmlLink: `https://www.google.com/calendar/event?eid=${id}`,
      created: now.toISOString(),
      updated: now.toISOString(),
      summary: typeof input.summary === "string" ? input.summary : "",
      ...(typeof input.description === "string" ? { description: input.description } : {}),
      creator: { email: caller.email, self: true },
      organizer: { email: caller.email, self: true },
      start: input.start,
      end: input.end,
      ...(attendees.length > 0
        ? { attendees: attendees.map((email) => ({ email, responseStatus: "needsAction" })) }
        : {}),
      ...(meetUrl ? { hangoutLink: meetUrl } : {}),
      ...(conferenceData ? { conferenceData } : {}),
      reminders: { useDefault: true },
      eventType: "default",
    };
    events.push({
      calendar: caller.email,
      id,
      requestId,
      summary: String(resource.summary),
      start,
      end,
      attendees,
      meetUrl,
      createdAt: now,
      resource,
    });
    const delay = pendingDelays.shift();
    if (delay) await sleep(delay);
    if (!response.destroyed) send(response, { status: 200, body: resource });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://fake");
    const body = await readBody(request);
    requests.push({
      method: request.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
      authorization: request.headers.authorization,
      at: new Date(),
    });
    const form = (body ?? {}) as Record<string, string>;

    if (request.method === "GET" && url.pathname === "/o/oauth2/v2/auth") {
      return send(response, consentPage(url.searchParams));
    }
    if (request.method === "POST" && url.pathname === "/token") {
      return send(response, tokenEndpoint(form, request.headers.authorization));
    }
    if (request.method === "POST" && url.pathname === "/revoke") {
      return send(response, revokeEndpoint(url.searchParams.get("token") ?? form.token));
    }
    if (request.method === "GET" && url.pathname === "/v1/userinfo") {
      const caller = bearer(request);
      if (!caller) {
        return send(response, {
          status: 401,
          body: { error: "invalid_request", error_description: "Invalid Credentials" },
        });
      }
      return send(response, {
        status: 200,
        body: { sub: String(caller.email.length * 7919), email: caller.email, email_verified: true },
      });
    }
    const calendarPath = /^\/calendar\/v3\/calendars\/([^/]+)\/events(?:\/([^/]+))?$/.exec(url.pathname);
    if (calendarPath) {
      const caller = bearer(request);
      if (!caller) return send(response, calendarError(401, "authError", "Invalid Credentials"));
      if (!caller.scopes.includes(SCOPE_CALENDAR_EVENTS)) {
        return send(
          response,
          calendarError(403, "insufficientPermissions", "Request had insufficient authentication scopes."),
        );
      }
      const calendarId = decodeURIComponent(calendarPath[1] ?? "");
      const eventId = calendarPath[2] ? decodeURIComponent(calendarPath[2]) : undefined;
      if (request.method === "POST" && !eventId) {
        return insertEvent(calendarId, url.searchParams, body, caller, response);
      }
      if (request.method === "GET" && eventId) {
        const owner = calendarId === "primary" ? caller.email : calendarId;
        const event = events.find((candidate) => candidate.calendar === owner && candidate.id === eventId);
        if (!event || owner !== caller.email)
          return send(response, calendarError(404, "notFound", "Not Found"));
        return send(response, { status: 200, body: event.resource });
      }
    }
    send(response, {
      status: 404,
      body: { error: { code: 404, message: `No fake for ${request.method} ${url.pathname}` } },
    });
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        send(response, { status: 500, body: { error: { code: 500, message: String(error) } } });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    clientId,
    clientSecret,
    settings: {
      GOOGLE_CLIENT_ID: clientId,
      GOOGLE_CLIENT_SECRET: clientSecret,
      GOOGLE_AUTH_URL: `${url}/o/oauth2/v2/auth`,
      GOOGLE_TOKEN_URL: `${url}/token`,
      GOOGLE_REVOKE_URL: `${url}/revoke`,
      GOOGLE_USERINFO_URL: `${url}/v1/userinfo`,
      GOOGLE_API_BASE_URL: `${url}/`,
    },
    requests,
    events,
    refreshTokens: () =>
      [...refreshTokens].map(([value, state]) => ({
        token: value,
        email: state.email,
        scopes: state.scopes,
        valid: state.valid,
      })),
    setConsent(decision) {
      consent = decision;
    },
    setAccountEmail(email) {
      accountEmail = email;
    },
    failRefreshToken(value) {
      const state = refreshTokens.get(value);
      if (state) state.valid = false;
      else refreshTokens.set(value, { email: accountEmail, scopes: [], valid: false });
    },
    issueRefreshToken(
      email,
      scopes = [SCOPE_CALENDAR_EVENTS, "https://www.googleapis.com/auth/userinfo.email"],
    ) {
      const refresh = token("1//fake-");
      refreshTokens.set(refresh, { email, scopes, valid: true });
      return refresh;
    },
    delayNextInsert(ms) {
      pendingDelays.push(ms);
    },
    failNextInsert(injected) {
      pendingFailures.push(injected);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The Google fake as the sandbox runs it: consent approves at once; each created event is a captured message. */
export const googleSandboxFake: SandboxFakeEntry = {
  name: "google",
  async start(): Promise<SandboxFake> {
    const fake = await startGoogleFake();
    return {
      name: "google",
      env: fake.settings,
      notes: [
        `Google OAuth + Calendar fake at ${fake.url}: its consent page approves at once as calendar@sandbox.example`,
      ],
      captured: () =>
        fake.events.map(
          (event): CapturedMessage => ({
            service: "google",
            kind: "calendar.event",
            at: event.createdAt.toISOString(),
            to: event.attendees,
            summary: `Meet "${event.summary}" at ${event.start} on ${event.calendar}'s calendar: ${event.meetUrl ?? "no conference"}`,
            data: event.resource,
          }),
        ),
      stop: () => fake.stop(),
    };
  },
};

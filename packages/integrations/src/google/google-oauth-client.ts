import type { GoogleConfig } from "@ecodrix/platform";
import type { OAuth2Client } from "google-auth-library";
import { httpResponseOf } from "./google-errors.js";

/**
 * The OAuth side of the Google integration, for the API's browser pages (runbook §1 step 4) and the
 * disconnect route: consent URL, code exchange, the account's e-mail, revocation. google-auth-library
 * only (googleapis stays in the worker). Every endpoint comes from the settings, so tests and the
 * sandbox talk to the local fake.
 */
export const GOOGLE_SCOPES = [
  "https://www.googleapis.com/auth/calendar.events",
  "https://www.googleapis.com/auth/userinfo.email",
] as const;

const TIMEOUT_MS = 10_000;

export type ConfiguredGoogle = GoogleConfig & { clientId: string; clientSecret: string };

/** Google settings with both client id and secret set; else the Google routes answer 503. */
export function isGoogleConfigured(config: GoogleConfig): config is ConfiguredGoogle {
  return config.clientId !== undefined && config.clientSecret !== undefined;
}

/** Why Google refused or could not be reached, in words safe to show (never a token). */
export class GoogleOAuthError extends Error {
  constructor(
    message: string,
    /** Google's OAuth error code (`invalid_grant`, `access_denied` …) or `network`. */
    readonly reason: string,
  ) {
    super(message);
    this.name = "GoogleOAuthError";
  }
}

export interface GoogleOAuth {
  consentUrl(state: string): Promise<string>;
  /** Exchanges an authorization code (single-use) for tokens. */
  exchangeCode(
    code: string,
  ): Promise<{ accessToken: string; refreshToken: string | undefined; scopes: string[] }>;
  /** The e-mail of the account an access token belongs to (GOOGLE_USERINFO_URL). */
  accountEmail(accessToken: string): Promise<string>;
  /** `revoked`, or `already_invalid` when Google no longer knows the token; throws when unreachable. */
  revoke(token: string): Promise<"revoked" | "already_invalid">;
}

function describe(error: unknown, action: string): GoogleOAuthError {
  const response = httpResponseOf(error);
  if (response) {
    const data = response.data as { error?: unknown; error_description?: unknown } | undefined;
    const code = typeof data?.error === "string" ? data.error : `http_${response.status}`;
    const description = typeof data?.error_description === "string" ? `: ${data.error_description}` : "";
    return new GoogleOAuthError(`Google refused to ${action} (${code}${description})`, code);
  }
  return new GoogleOAuthError(`Google could not be reached to ${action}`, "network");
}

/**
 * google-auth-library is loaded on the first use, not at the API's start: most API processes never
 * serve a connect page, and the library costs a few hundred milliseconds of start-up.
 */
export function createGoogleOAuth(config: ConfiguredGoogle): GoogleOAuth {
  let loading: Promise<OAuth2Client> | undefined;
  const oauthClient = () => {
    loading ??= import("google-auth-library").then(
      ({ OAuth2Client }) =>
        new OAuth2Client({
          clientId: config.clientId,
          clientSecret: config.clientSecret,
          redirectUri: config.redirectUri,
          endpoints: {
            oauth2AuthBaseUrl: config.authUrl,
            oauth2TokenUrl: config.tokenUrl,
            oauth2RevokeUrl: config.revokeUrl,
          },
          transporterOptions: { timeout: TIMEOUT_MS },
        }),
    );
    return loading;
  };

  return {
    async consentUrl(state) {
      return (await oauthClient()).generateAuthUrl({
        access_type: "offline",
        // consent every time: Google issues a refresh token only on a consent, and a reconnect needs one.
        prompt: "consent",
        scope: [...GOOGLE_SCOPES],
        state,
      });
    },

    async exchangeCode(code) {
      try {
        const client = await oauthClient();
        const { tokens } = await client.getToken({ code, redirect_uri: config.redirectUri });
        if (!tokens.access_token) {
          throw new GoogleOAuthError("Google answered the code exchange without an access token", "no_token");
        }
        return {
          accessToken: tokens.access_token,
          refreshToken: tokens.refresh_token ?? undefined,
          scopes: (tokens.scope ?? "").split(/\s+/).filter(Boolean),
        };
      } catch (error) {
        if (error instanceof GoogleOAuthError) throw error;
        throw describe(error, "exchange the authorization code");
      }
    },

    async accountEmail(accessToken) {
      let response: Response;
      try {
        response = await fetch(config.userinfoUrl, {
          headers: { authorization: `Bearer ${accessToken}` },
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch {
        throw new GoogleOAuthError("Google could not be reached to read the account's e-mail", "network");
      }
      const body = (await response.json().catch(() => ({}))) as { email?: unknown };
      if (!response.ok || typeof body.email !== "string") {
        throw new GoogleOAuthError(
          `Google did not give the account's e-mail (HTTP ${response.status})`,
          `http_${response.status}`,
        );
      }
      return body.email;
    },

    async revoke(token) {
      try {
        await (await oauthClient()).revokeToken(token);
        return "revoked";
      } catch (error) {
        const described = describe(error, "revoke the token");
        if (described.reason === "invalid_token") return "already_invalid";
        throw described;
      }
    },
  };
}

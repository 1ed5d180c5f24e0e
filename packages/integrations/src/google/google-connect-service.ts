import type { ClientService, SecretBox } from "@ecodrix/domain";
import {
  type AppError,
  type GoogleConfig,
  type Logger,
  notFound,
  serviceUnavailable,
} from "@ecodrix/platform";
import type { Db } from "mongodb";
import {
  type ConnectLinkClaims,
  type ConnectLinkSigner,
  createConnectLinkSigner,
  createConnectLinkUses,
} from "./google-connect-links.js";
import { GoogleErrorCode } from "./google-errors.js";
import {
  createGoogleOAuth,
  GOOGLE_SCOPES,
  type GoogleOAuth,
  GoogleOAuthError,
  isGoogleConfigured,
} from "./google-oauth-client.js";
import { createGoogleTokenRepository } from "./google-token-repository.js";

/** A page of the browser flow: the routes render it as HTML (escaping every value). */
export interface ConnectPage {
  status: number;
  title: string;
  /** Paragraphs of plain text. */
  paragraphs: string[];
}

export type ConnectStep = { kind: "redirect"; url: string } | { kind: "page"; page: ConnectPage };

export interface GoogleConnectionStatus {
  connected: boolean;
  email: string | null;
  connectedAt: string | null;
  /** Google refused the stored token: connect again (the client shows `googleStatus: "reconnect_required"`). */
  reconnectRequired: boolean;
}

export interface GoogleConnectService {
  readonly configured: boolean;
  ensureIndexes(): Promise<void>;
  /** A signed single-use connect link for the client (404 unknown client, 503 unconfigured). */
  createLink(clientCode: string): Promise<{ id: string; url: string; expiresAt: string }>;
  /** `GET /api/auth/google/connect`: to Google's consent screen, or a page saying why not. */
  startConsent(query: { clientCode?: string; token?: string }): Promise<ConnectStep>;
  /** `GET /api/auth/google/callback`: stores the connection; the page says what happened. */
  completeConsent(query: { state?: string; code?: string; error?: string }): Promise<ConnectPage>;
  status(clientCode: string): Promise<GoogleConnectionStatus>;
  /** Revokes the refresh token at Google (when it can) and forgets it. 404 when not connected. */
  disconnect(
    clientCode: string,
  ): Promise<{ connected: false; email: string; revoked: boolean; note?: string }>;
}

export interface GoogleConnectDeps {
  /** Without `google` (or without its client id and secret) every operation answers 503. */
  config: { google?: GoogleConfig; publicUrl: string };
  /** The central database (google_tokens, google_connect_links). */
  db: Db;
  crypto: Pick<SecretBox, "encrypt" | "decrypt">;
  clients: Pick<ClientService, "get" | "setIntegrationStatus">;
  /** The current ENCRYPTION_KEY: links and states are signed with a key derived from it. */
  signingKey: Buffer;
  logger: Pick<Logger, "info" | "warn">;
  /** For tests: another OAuth implementation is never needed in the product. */
  oauth?: GoogleOAuth;
  signer?: ConnectLinkSigner;
}

const CALENDAR_SCOPE = GOOGLE_SCOPES[0];

export function googleNotConfigured(): AppError {
  return serviceUnavailable(
    GoogleErrorCode.notConfigured,
    "Google is not configured on this server: set GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET (an OAuth client of a Google Cloud project) and restart the API",
  );
}

const page = (status: number, title: string, ...paragraphs: string[]): ConnectPage => ({
  status,
  title,
  paragraphs,
});

function howToGetALink(clientCode: string | undefined): string {
  const code = clientCode && /^[a-z0-9-]{1,40}$/.test(clientCode) ? clientCode : "<clientCode>";
  return `Ask your ECODrIx administrator for a new connect link (POST /api/clients/${code}/google/connect-link), or create one from your app with your API key (POST /api/saas/google/connect-link). A link is valid for 30 minutes and connects once.`;
}

export function createGoogleConnectService(deps: GoogleConnectDeps): GoogleConnectService {
  const google = deps.config.google;
  const configured = google !== undefined && isGoogleConfigured(google);
  const oauth = deps.oauth ?? (google && isGoogleConfigured(google) ? createGoogleOAuth(google) : undefined);
  const signer = deps.signer ?? createConnectLinkSigner({ key: deps.signingKey });
  const uses = createConnectLinkUses({ db: deps.db });
  const tokens = createGoogleTokenRepository({ db: deps.db, crypto: deps.crypto });
  const unavailablePage = () =>
    page(
      503,
      "Google Calendar cannot be connected on this server",
      "This server has no Google OAuth client configured (GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET). Ask your ECODrIx administrator.",
    );

  function requireOAuth(): GoogleOAuth {
    if (!oauth) throw googleNotConfigured();
    return oauth;
  }

  /** The client the claims were made for, if it still exists as it was (same record). */
  async function clientOf(claims: ConnectLinkClaims) {
    const client = await deps.clients.get(claims.clientCode).catch(() => null);
    return client && client.createdAt === claims.clientCreatedAt ? client : null;
  }

  async function bestEffortRevoke(token: string, clientCode: string, why: string): Promise<void> {
    try {
      await oauth?.revoke(token);
    } catch (error) {
      deps.logger.warn(
        { clientCode, reason: (error as Error).message },
        `could not revoke ${why} Google token`,
      );
    }
  }

  return {
    configured,

    async ensureIndexes() {
      await Promise.all([tokens.ensureIndexes(), uses.ensureIndexes()]);
    },

    async createLink(clientCode) {
      requireOAuth();
      const client = await deps.clients.get(clientCode);
      const link = signer.issueLink(client.clientCode, client.createdAt);
      const url = new URL("/api/auth/google/connect", `${deps.config.publicUrl}/`);
      url.searchParams.set("clientCode", client.clientCode);
      url.searchParams.set("token", link.token);
      deps.logger.info({ clientCode, linkId: link.linkId }, "Google connect link issued");
      return { id: link.linkId, url: url.toString(), expiresAt: link.expiresAt.toISOString() };
    },

    async startConsent(query) {
      if (!oauth) return { kind: "page", page: unavailablePage() };
      const { clientCode, token } = query;
      if (!clientCode || !token) {
        return {
          kind: "page",
          page: page(
            401,
            "A connect link is needed",
            "Google Calendar is connected through a personal connect link, and this address has none (its token is missing).",
            howToGetALink(clientCode),
          ),
        };
      }
      const check = signer.verifyLink(token, clientCode);
      if (!check.ok) {
        return {
          kind: "page",
          page:
            check.reason === "expired"
              ? page(
                  401,
                  "This connect link has expired",
                  "Connect links are valid for 30 minutes.",
                  howToGetALink(clientCode),
                )
              : page(
                  401,
                  "This connect link is not valid",
                  "The link is incomplete or was not made for this client. Copy the whole link, or get a new one.",
                  howToGetALink(clientCode),
                ),
        };
      }
      if (!(await clientOf(check.claims))) {
        return {
          kind: "page",
          page: page(
            401,
            "This connect link is not valid",
            `The client ${clientCode} of this link no longer exists.`,
          ),
        };
      }
      if (await uses.isUsed(check.claims.linkId)) {
        return {
          kind: "page",
          page: page(
            401,
            "This connect link has been used",
            "Google Calendar was already connected with this link. A link connects once.",
            howToGetALink(clientCode),
          ),
        };
      }
      return { kind: "redirect", url: await oauth.consentUrl(signer.issueState(check.claims)) };
    },

    async completeConsent(query) {
      if (!oauth) return unavailablePage();
      const check = query.state ? signer.verifyState(query.state) : undefined;
      if (!check?.ok) {
        return check?.reason === "expired"
          ? page(
              400,
              "This sign-in took too long",
              "The Google consent screen must be completed within 15 minutes of opening the connect link. Open the connect link again (or get a new one if it has expired too).",
            )
          : page(
              400,
              "This sign-in response cannot be used",
              "It does not come from a connect link of this server (its state is missing or not valid). Start again from a connect link.",
              howToGetALink(undefined),
            );
      }
      const claims = check.claims;
      const client = await clientOf(claims);
      if (!client) {
        return page(
          400,
          "Google Calendar was not connected",
          `The client ${claims.clientCode} no longer exists.`,
        );
      }
      const who = `${client.name} (${client.clientCode})`;
      if (query.error) {
        return page(
          400,
          "Google Calendar was not connected",
          query.error === "access_denied"
            ? `Access was not allowed on Google's consent screen, so nothing was connected for ${who}.`
            : `Google answered "${query.error}", so nothing was connected for ${who}.`,
          "To try again, open the connect link again while it is valid (30 minutes) and choose Allow, with calendar access ticked.",
        );
      }
      if (await uses.isUsed(claims.linkId)) {
        return page(
          400,
          "This connect link has already been used",
          `Google Calendar was already connected for ${who} with this link; this response was not used again.`,
          howToGetALink(claims.clientCode),
        );
      }
      if (!query.code) {
        return page(
          400,
          "Google Calendar was not connected",
          "Google's answer has no authorization code. Open the connect link again.",
        );
      }

      let exchanged: Awaited<ReturnType<GoogleOAuth["exchangeCode"]>>;
      let email: string;
      try {
        exchanged = await oauth.exchangeCode(query.code);
        email = await oauth.accountEmail(exchanged.accessToken);
      } catch (error) {
        if (
          error instanceof GoogleOAuthError &&
          error.reason !== "network" &&
          !error.reason.startsWith("http_5")
        ) {
          return page(
            400,
            "Google Calendar was not connected",
            `${error.message}.`,
            "Open the connect link again (a Google sign-in response can be used once, within minutes).",
          );
        }
        deps.logger.warn(
          { clientCode: client.clientCode, reason: (error as Error).message },
          "Google OAuth exchange failed",
        );
        return page(
          502,
          "Google could not be reached",
          "Nothing was connected. Open the connect link again in a minute.",
        );
      }
      if (!exchanged.refreshToken) {
        await bestEffortRevoke(exchanged.accessToken, client.clientCode, "an incomplete");
        return page(
          400,
          "Google Calendar was not connected",
          "Google did not grant offline access (no refresh token), so meetings could not be created later. Open the connect link again and allow access.",
        );
      }
      if (!exchanged.scopes.includes(CALENDAR_SCOPE)) {
        await bestEffortRevoke(exchanged.refreshToken, client.clientCode, "a calendar-less");
        return page(
          400,
          "Calendar access was not allowed",
          `The Google account ${email} signed in, but calendar access was not ticked on the consent screen, so ECODrIx could not create meetings for ${who}.`,
          "Open the connect link again and tick the calendar permission.",
        );
      }
      // One connection per link, also when two callbacks race: the insert of the link's id decides.
      if (!(await uses.consume(claims))) {
        await bestEffortRevoke(exchanged.refreshToken, client.clientCode, "a duplicate");
        return page(
          400,
          "This connect link has already been used",
          `Google Calendar was already connected for ${who} with this link.`,
          howToGetALink(claims.clientCode),
        );
      }
      const { previousRefreshToken } = await tokens.save(client.clientCode, {
        email,
        refreshToken: exchanged.refreshToken,
        scopes: exchanged.scopes,
      });
      await deps.clients.setIntegrationStatus(client.clientCode, "googleStatus", null);
      if (previousRefreshToken && previousRefreshToken !== exchanged.refreshToken) {
        await bestEffortRevoke(previousRefreshToken, client.clientCode, "the replaced");
      }
      deps.logger.info({ clientCode: client.clientCode, linkId: claims.linkId }, "Google Calendar connected");
      return page(
        200,
        `Google Calendar connected for ${who}`,
        `Meetings will be created in the calendar of ${email}.`,
        "You can close this page.",
      );
    },

    async status(clientCode) {
      requireOAuth();
      const connection = await tokens.find(clientCode);
      if (!connection) return { connected: false, email: null, connectedAt: null, reconnectRequired: false };
      const reconnectRequired = connection.status === "reconnect_required";
      return {
        connected: !reconnectRequired,
        email: connection.email,
        connectedAt: connection.connectedAt.toISOString(),
        reconnectRequired,
      };
    },

    async disconnect(clientCode) {
      const client = requireOAuth();
      const removed = await tokens.delete(clientCode);
      if (!removed) {
        throw notFound(GoogleErrorCode.notConnected, `Google Calendar is not connected for ${clientCode}`);
      }
      await deps.clients.setIntegrationStatus(clientCode, "googleStatus", null);
      let revoked = false;
      let note: string | undefined;
      if (removed.refreshToken) {
        try {
          revoked = (await client.revoke(removed.refreshToken)) === "revoked";
          if (!revoked) note = "Google no longer knew the token (already revoked or expired).";
        } catch (error) {
          deps.logger.warn(
            { clientCode, reason: (error as Error).message },
            "Google token revocation failed",
          );
          note = `Google could not be reached to revoke access; ${removed.email} can remove it at https://myaccount.google.com/permissions.`;
        }
      }
      deps.logger.info({ clientCode, revoked }, "Google Calendar disconnected");
      return { connected: false, email: removed.email, revoked, ...(note ? { note } : {}) };
    },
  };
}

import { badRequest } from "@ecodrix/platform";
import type { FastifyInstance } from "fastify";

/**
 * Query parameter names that carry credentials when someone puts a header in the URL by mistake. A URL
 * ends up in proxy logs, browser history and Referer headers, so such a request is refused rather than
 * served. Compared lowercased, with `_` read as `-`. The API's own header credentials are never valid in
 * a URL; token-like names are refused on the routes that authenticate with headers (admin and tenant),
 * not on the browser pages that take a one-time link token by design (the Google connect link).
 */
const HEADER_CREDENTIALS = new Set([
  "x-core-api-key",
  "core-api-key",
  "x-api-key",
  "api-key",
  "apikey",
  "authorization",
]);
const TOKEN_LIKE = new Set([
  ...HEADER_CREDENTIALS,
  "token",
  "access-token",
  "auth-token",
  "id-token",
  "refresh-token",
  "password",
  "secret",
]);

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    return raw;
  }
}

function credentialIn(url: string, names: ReadonlySet<string>): string | undefined {
  const question = url.indexOf("?");
  if (question < 0) return undefined;
  for (const pair of url.slice(question + 1).split("&")) {
    const equals = pair.indexOf("=");
    const name = decodeName(equals < 0 ? pair : pair.slice(0, equals));
    if (names.has(name.toLowerCase().replace(/_/g, "-"))) return name;
  }
  return undefined;
}

function refuse(name: string) {
  const shown = /^[A-Za-z0-9_.-]{1,40}$/.test(name) ? `"${name}"` : "a credential";
  return badRequest(
    "ECODRIX_AUTH_CREDENTIALS_IN_QUERY",
    `The query string carries ${shown}: credentials are accepted only in headers (x-api-key, x-client-code, x-core-api-key), never in the URL`,
  );
}

/**
 * On every `/api/` request: refuses, with a 400 naming the parameter (never its value), a query string
 * carrying one of the API's header credentials (x-api-key, x-core-api-key …).
 */
export function registerQueryCredentialGuard(app: FastifyInstance): void {
  app.addHook("onRequest", async (request) => {
    if (!request.url.startsWith("/api/")) return;
    const name = credentialIn(request.url, HEADER_CREDENTIALS);
    if (name) throw refuse(name);
  });
}

/**
 * In a scope that authenticates with headers (admin, tenant), added before its authentication hook: also
 * refuses token-like names (token, access_token, password …), so the mistake is reported as what it is
 * rather than as a missing header.
 */
export function refuseTokensInQuery(scope: FastifyInstance): void {
  scope.addHook("onRequest", async (request) => {
    const name = credentialIn(request.url, TOKEN_LIKE);
    if (name) throw refuse(name);
  });
}

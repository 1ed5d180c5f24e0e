import { badRequest } from "@ecodrix/platform";
import type { FastifyInstance, FastifyRequest } from "fastify";

/**
 * Query parameter names that carry credentials when someone puts a header in the URL by mistake. A URL
 * ends up in proxy logs, browser history and Referer headers, so such a request is refused rather than
 * served. Compared lowercased, with `_` read as `-`.
 */
const CREDENTIAL_PARAMETERS = new Set([
  "x-core-api-key",
  "core-api-key",
  "x-api-key",
  "api-key",
  "apikey",
  "token",
  "access-token",
  "auth-token",
  "id-token",
  "refresh-token",
  "authorization",
  "password",
  "secret",
]);

/** Parameter names whose values never reach a log line (a wider net than the refused ones). */
const SECRET_LOOKING = /key|token|secret|pass|pwd|auth|sig|credential|session|otp/i;

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    return raw;
  }
}

/** The URL with the value of every secret-looking query parameter replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  const question = url.indexOf("?");
  if (question < 0) return url;
  const query = url
    .slice(question + 1)
    .split("&")
    .map((pair) => {
      const equals = pair.indexOf("=");
      const rawName = equals < 0 ? pair : pair.slice(0, equals);
      const name = decodeName(rawName);
      return SECRET_LOOKING.test(name) || name.toLowerCase() === "code" ? `${rawName}=[redacted]` : pair;
    })
    .join("&");
  return `${url.slice(0, question)}?${query}`;
}

/** Fastify's request serializer, with the query's secrets redacted (pino's redact paths cannot see inside a URL). */
export function serializeRequest(request: FastifyRequest) {
  return {
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/**
 * Refuses, with a 400 naming the parameter (never its value), any API request whose query string carries a
 * credential: before authentication, so the mistake is reported as what it is rather than a missing header.
 */
export function registerQueryCredentialGuard(app: FastifyInstance): void {
  app.addHook("onRequest", async (request) => {
    const question = request.url.indexOf("?");
    if (question < 0 || !request.url.startsWith("/api/")) return;
    for (const pair of request.url.slice(question + 1).split("&")) {
      const equals = pair.indexOf("=");
      const name = decodeName(equals < 0 ? pair : pair.slice(0, equals));
      if (CREDENTIAL_PARAMETERS.has(name.toLowerCase().replace(/_/g, "-"))) {
        const shown = /^[A-Za-z0-9_.-]{1,40}$/.test(name) ? `"${name}"` : "a credential";
        throw badRequest(
          "ECODRIX_AUTH_CREDENTIALS_IN_QUERY",
          `The query string carries ${shown}: credentials are accepted only in headers (x-api-key, x-client-code, x-core-api-key), never in the URL`,
        );
      }
    }
  });
}

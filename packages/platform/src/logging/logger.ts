import { type Logger, type LoggerOptions, pino } from "pino";

export type { Logger } from "pino";

// Generic secret-looking names; the product's secret fields come from the capabilities (redactFields).
const secretFields = [
  "password",
  "pass",
  "token",
  "accessToken",
  "refreshToken",
  "apiKey",
  "secret",
  "clientSecret",
  "dbUri",
  "authorization",
];

/** A field redacted at the top level of a log line and two levels down. */
const fieldPaths = (fields: readonly string[]) =>
  fields.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);

/** Paths pino replaces with "[redacted]": request headers that carry keys, and secret-named fields. */
export const redactPaths = [
  'req.headers["x-api-key"]',
  'req.headers["x-core-api-key"]',
  "req.headers.authorization",
  "req.headers.cookie",
  'headers["x-api-key"]',
  'headers["x-core-api-key"]',
  "headers.authorization",
  ...fieldPaths(secretFields),
];

/**
 * Query parameters that carry credentials in URLs: connect-link tokens, OAuth codes and states, Meta's
 * webhook verify token. Request logs show their names with the value replaced.
 */
const secretQueryParams = new Set([
  "token",
  "code",
  "state",
  "access_token",
  "refresh_token",
  "id_token",
  "key",
  "api_key",
  "apikey",
  "secret",
  "password",
  "signature",
  "hub.verify_token",
]);

/** A request URL as it may be logged: the values of credential-carrying query parameters replaced. */
export function loggableUrl(url: string): string {
  const queryAt = url.indexOf("?");
  if (queryAt < 0) return url;
  const params = url
    .slice(queryAt + 1)
    .split("&")
    .map((pair) => {
      const equals = pair.indexOf("=");
      const rawName = equals < 0 ? pair : pair.slice(0, equals);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, " "));
      } catch {
        // A malformed escape: judge the raw name.
      }
      return equals >= 0 && secretQueryParams.has(name.toLowerCase()) ? `${rawName}=[redacted]` : pair;
    });
  return `${url.slice(0, queryAt)}?${params.join("&")}`;
}

interface LoggedRequest {
  method?: unknown;
  url?: unknown;
  host?: unknown;
  ip?: unknown;
  socket?: { remotePort?: unknown };
}

/** Fastify's request serializer, with the URL passed through loggableUrl (Fastify lets the logger's own win). */
function serializeRequest(req: LoggedRequest): unknown {
  if (!req || typeof req.url !== "string") return req;
  return {
    method: req.method,
    url: loggableUrl(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

export interface LoggerSettings {
  level: LoggerOptions["level"];
  name: string;
  /** Pretty output; default: only when stdout is a TTY. */
  pretty?: boolean;
  /** More field names to redact wherever they appear: the capabilities' secret fields. */
  redactFields?: readonly string[];
  /** Where to write (tests capture logs this way). Default: stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? "info",
    name: settings.name,
    redact: { paths: [...redactPaths, ...fieldPaths(settings.redactFields ?? [])], censor: "[redacted]" },
    serializers: { req: serializeRequest },
  };
  if (settings.destination) return pino(options, settings.destination as pino.DestinationStream);
  const pretty = settings.pretty ?? Boolean(process.stdout.isTTY);
  if (pretty) {
    return pino({ ...options, transport: { target: "pino-pretty", options: { colorize: true } } });
  }
  return pino(options);
}

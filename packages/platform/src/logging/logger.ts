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
  };
  if (settings.destination) return pino(options, settings.destination as pino.DestinationStream);
  const pretty = settings.pretty ?? Boolean(process.stdout.isTTY);
  if (pretty) {
    return pino({ ...options, transport: { target: "pino-pretty", options: { colorize: true } } });
  }
  return pino(options);
}

import { type Logger, type LoggerOptions, pino } from "pino";

export type { Logger } from "pino";

const secretFields = [
  "password",
  "pass",
  "smtpPass",
  "token",
  "accessToken",
  "refreshToken",
  "whatsappToken",
  "whatsappWebhookToken",
  "apiKey",
  "secret",
  "automationWebhookSecret",
  "clientSecret",
  "dbUri",
  "authorization",
];

/** Paths pino replaces with "[redacted]": request headers that carry keys, and secret-named fields. */
export const redactPaths = [
  'req.headers["x-api-key"]',
  'req.headers["x-core-api-key"]',
  "req.headers.authorization",
  "req.headers.cookie",
  'headers["x-api-key"]',
  'headers["x-core-api-key"]',
  "headers.authorization",
  ...secretFields,
  ...secretFields.map((field) => `*.${field}`),
  ...secretFields.map((field) => `*.*.${field}`),
];

export interface LoggerSettings {
  level: LoggerOptions["level"];
  name: string;
  /** Pretty output; default: only when stdout is a TTY. */
  pretty?: boolean;
  /** Where to write (tests capture logs this way). Default: stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? "info",
    name: settings.name,
    redact: { paths: redactPaths, censor: "[redacted]" },
  };
  if (settings.destination) return pino(options, settings.destination as pino.DestinationStream);
  const pretty = settings.pretty ?? Boolean(process.stdout.isTTY);
  if (pretty) {
    return pino({ ...options, transport: { target: "pino-pretty", options: { colorize: true } } });
  }
  return pino(options);
}

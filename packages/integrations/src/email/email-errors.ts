import { AppError, permanentFailure } from "@ecodrix/platform";
import type { NodemailerError } from "nodemailer";
import { EMAIL_NOT_CONFIGURED } from "./email-settings.js";

export const EmailErrorCode = {
  notConfigured: EMAIL_NOT_CONFIGURED,
  /** Neither text nor html. */
  empty: "ECODRIX_EMAIL_EMPTY",
  /** smtpFrom holds no address (the Message-ID's domain comes from it). */
  badFrom: "ECODRIX_EMAIL_BAD_FROM",
  /** The server refused for good (5xx). */
  rejected: "ECODRIX_EMAIL_REJECTED",
  /** The server refused for now (4xx): retried. */
  deferred: "ECODRIX_EMAIL_DEFERRED",
  /** No connection, or it dropped before the message was handed over: retried. */
  unreachable: "ECODRIX_EMAIL_UNREACHABLE",
  /** The connection dropped after the whole message was handed over: it may have been delivered. */
  outcomeUnknown: "ECODRIX_EMAIL_OUTCOME_UNKNOWN",
} as const;

/** What the handler does with a failed send. */
export type SmtpFailure =
  | { kind: "retry"; code: string; error: AppError }
  | { kind: "permanent"; code: string; error: AppError }
  | { kind: "unknown"; code: string; error: AppError };

/**
 * Removes the client's credentials from a text that came from the server or the network stack (a
 * server may echo the user name; nothing should ever echo the password, but nothing is assumed).
 */
export function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 3) out = out.split(secret).join("***");
  }
  return out.replace(/[\r\n]+/g, " ").trim();
}

/**
 * Maps a nodemailer failure: a server reply decides by its class (4xx retry, 5xx permanent, with the
 * reply in the message); without a reply (refused, reset, timed out) it is retried unless the whole
 * message had been handed over, when it may have been delivered and is never sent again.
 */
export function mapSmtpFailure(
  cause: unknown,
  messageHandedOver: boolean,
  secrets: readonly (string | undefined)[],
): SmtpFailure {
  const error = (cause ?? {}) as NodemailerError;
  const code = typeof error.responseCode === "number" ? error.responseCode : undefined;
  const reply = scrub(String(error.response ?? ""), secrets);
  if (code !== undefined && code >= 500) {
    const message = `SMTP server refused the message (${error.command ?? "SMTP"}): ${reply || code}`;
    return {
      kind: "permanent",
      code: String(code),
      error: permanentFailure(EmailErrorCode.rejected, message),
    };
  }
  if (code !== undefined && code >= 400) {
    const message = `SMTP server deferred the message (${error.command ?? "SMTP"}): ${reply || code}`;
    return {
      kind: "retry",
      code: String(code),
      error: new AppError(EmailErrorCode.deferred, message, 503, { retryable: true }),
    };
  }
  const what = scrub(
    [error.code, error.originalCode, error.message].filter((part) => typeof part === "string").join(": "),
    secrets,
  );
  if (messageHandedOver) {
    return {
      kind: "unknown",
      code: "network",
      error: permanentFailure(
        EmailErrorCode.outcomeUnknown,
        `The SMTP connection failed after the whole message was sent, before the server answered (${what}): it may have been delivered; check with the recipient before sending it again as a new message`,
      ),
    };
  }
  return {
    kind: "retry",
    code: "network",
    error: new AppError(EmailErrorCode.unreachable, `SMTP server unreachable: ${what}`, 502, {
      retryable: true,
    }),
  };
}

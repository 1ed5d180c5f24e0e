import { AppError, permanentFailure } from "@ecodrix/platform";
import { defineJob } from "@ecodrix/queue";
import type { Db } from "mongodb";
import addressparser from "nodemailer/lib/addressparser";
import { messageLogOf } from "../message-log/message-log.js";
import {
  claimSend,
  failPermanently as failSend,
  openSend,
  type SendChannel,
  statusChanged,
} from "../message-log/message-send-guard.js";
import { resolveOutboundAddress } from "../outbound/outbound-address.js";
import { sendEmailContract } from "./email-contracts.js";
import { EmailErrorCode, mapSmtpFailure, scrub } from "./email-errors.js";
import type { EmailJobDeps } from "./email-job-deps.js";
import { emailNotConfiguredMessage, missingSmtpSecrets } from "./email-settings.js";
import { DEFAULT_SMTP_TIMEOUTS, maxSendDurationMs, SmtpSendError } from "./smtp-transports.js";

/** What `send_email` returns. */
export interface SendEmailResult {
  /** The `Message-ID` header: `<{jobId}@{domain of smtpFrom}>`. */
  messageId: string;
  status: "accepted";
  /** The server's reply to the message (e.g. `250 2.0.0 OK queued as …`); absent when already sent. */
  response?: string;
  /** True when an earlier attempt's message was accepted and this attempt sent nothing. */
  alreadySent: boolean;
}

/**
 * How long after its claim an attempt's send is surely over: the pool may queue a message behind others
 * of the same client before its own connect/greet/reply timeouts start, so the margin is wide. It only
 * matters after a crash mid-send (a retry waits this long before calling the outcome unknown).
 */
const QUEUE_MARGIN_MS = 3 * 60_000;

/** How `send_email` differs from `send_whatsapp` in the message log's send flow. */
const EMAIL_CHANNEL: SendChannel<SendEmailResult> = {
  channel: "email",
  alreadySent: (messageId) => ({ messageId, status: "accepted", alreadySent: true }),
  // Only our own codes are thrown again: a stored SMTP reply code (or `network`) is no error code of ours.
  failedCode: (stored) => (stored?.startsWith("ECODRIX_") ? stored : EmailErrorCode.rejected),
  failedMessage: "The e-mail failed",
  // An attempt waiting for an earlier one's answer looks again this often (at most).
  inFlight: { recheckMs: 2_000, reason: "an earlier attempt's e-mail is being sent" },
  outcomeUnknown: {
    code: EmailErrorCode.outcomeUnknown,
    message:
      "An earlier attempt was sending the e-mail when its worker stopped, before the server's answer was recorded: it may have been delivered; check with the recipient before sending it again as a new message",
  },
};

/** The domain of the first address in smtpFrom (`Clinic <clinic@gmail.com>` → `gmail.com`). */
export function fromDomain(smtpFrom: string): string | undefined {
  const first = addressparser(smtpFrom, { flatten: true })[0]?.address ?? "";
  const at = first.lastIndexOf("@");
  const domain = at > 0 ? first.slice(at + 1).trim() : "";
  return /^[A-Za-z0-9.-]+$/.test(domain) ? domain.toLowerCase() : undefined;
}

/**
 * `send_email`: one e-mail through the client's SMTP server (its pooled transport).
 *
 * At most one e-mail per job, across retries, timeouts and worker crashes, the same way `send_whatsapp`
 * does it: the message log entry (unique on the job id) is claimed `queued → sending` before the send and
 * records the Message-ID after the server's 250. A server reply decides a failure (4xx: back to `queued`,
 * retried; 5xx: failed with the reply). A connection that fails before the whole message was handed to
 * the server cannot have delivered it (a server takes a message only after its final dot): retried. One
 * that fails after it, before the reply, and an attempt that finds an earlier one's claim expired (the
 * worker died mid-send), are "outcome unknown": failed, never sent again, since a duplicate e-mail to a
 * patient is worse than a clear failure an operator can look at. The Message-ID is the same on every
 * attempt, so even a duplicate would be recognisable as one.
 */
export const sendEmailJob = defineJob({
  ...sendEmailContract,
  limits: { maxRetries: 6, timeoutMs: 60_000 },
  create: (deps: EmailJobDeps) => {
    const timeouts = deps.smtpTimeouts ?? DEFAULT_SMTP_TIMEOUTS;
    const sendingDeadlineMs = maxSendDurationMs(timeouts) + QUEUE_MARGIN_MS;

    return async ({ job, log }): Promise<SendEmailResult> => {
      const jobId = String(job._id);
      const { payload } = job;
      const clientCode = job.clientCode;
      if (!clientCode) {
        throw permanentFailure(EmailErrorCode.notConfigured, "send_email needs the job's clientCode");
      }

      return deps.tenancy.tenantConnections.withDb(clientCode, async (db: Db) => {
        const messages = messageLogOf(db);
        const { attempt, earlier } = await openSend(EMAIL_CHANNEL, deps, {
          messages,
          jobId,
          clientCode,
          message: {
            to: payload.to,
            subject: payload.subject,
            ...(payload.context ? { context: payload.context } : {}),
          },
        });
        if (earlier) return earlier;
        const failPermanently = (error: AppError, code: string) => failSend(attempt, error, code);

        if (!payload.text && !payload.html) {
          return failPermanently(
            permanentFailure(EmailErrorCode.empty, "send_email needs text or html"),
            EmailErrorCode.empty,
          );
        }

        const secrets = await deps.tenancy.clients.getSecrets(clientCode);
        const missing = missingSmtpSecrets((field) => secrets[field] !== undefined);
        if (missing.length > 0) {
          return failPermanently(
            permanentFailure(EmailErrorCode.notConfigured, emailNotConfiguredMessage(clientCode, missing)),
            EmailErrorCode.notConfigured,
          );
        }
        const from = String(secrets.smtpFrom);
        const domain = fromDomain(from);
        if (!domain) {
          return failPermanently(
            permanentFailure(
              EmailErrorCode.badFrom,
              `smtpFrom of ${clientCode} holds no e-mail address (expected e.g. "Clinic <clinic@example.com>")`,
            ),
            EmailErrorCode.badFrom,
          );
        }
        const user = typeof secrets.smtpUser === "string" ? secrets.smtpUser : undefined;
        const pass = typeof secrets.smtpPass === "string" ? secrets.smtpPass : undefined;
        const clientPort = Number(secrets.smtpPort);
        // Sandbox mode sends every client's mail to the local fake, whatever its secrets say.
        const sandbox = deps.config.sandboxSmtp;
        const settings = {
          host: sandbox ? sandbox.host : String(secrets.smtpHost),
          port: sandbox ? sandbox.port : clientPort,
          secure: sandbox
            ? false
            : typeof secrets.smtpSecure === "boolean"
              ? secrets.smtpSecure
              : clientPort === 465,
          user,
          pass,
        };
        const messageId = `<${jobId}@${domain}>`;

        const outcome = await claimSend(attempt, sendingDeadlineMs);
        if (outcome) return outcome;

        let response: string;
        try {
          const sent = await deps.smtpTransports.send(
            clientCode,
            settings,
            async () =>
              (
                await resolveOutboundAddress(settings.host, {
                  allowPrivateNetworks: deps.config.outboundAllowPrivateNetworks,
                  what: "SMTP",
                })
              ).address,
            {
              from,
              to: payload.to,
              // Header injection: a subject is one line whatever the producer sent.
              subject: payload.subject.replace(/[\r\n]+/g, " "),
              ...(payload.text === undefined ? {} : { text: payload.text }),
              ...(payload.html === undefined ? {} : { html: payload.html }),
              messageId,
              // The content is the producer's text: it may never make nodemailer read a file or a URL.
              disableFileAccess: true,
              disableUrlAccess: true,
            },
          );
          response = scrub(String(sent.info.response ?? ""), [user, pass]);
        } catch (error) {
          const at = deps.clock();
          if (error instanceof AppError) {
            // The address guard: nothing was sent; refused hosts fail for good, lookup hiccups retry.
            if (error.retryable) {
              await messages.release(jobId);
              throw error;
            }
            return failPermanently(error, error.code);
          }
          if (!(error instanceof SmtpSendError)) {
            await messages.release(jobId);
            throw error;
          }
          const failure = mapSmtpFailure(error.cause, error.messageHandedOver, [user, pass]);
          // On the last attempt the queue will not retry: the log and the CRM hear of the failure now.
          const lastAttempt = job.retries >= job.maxRetries;
          if (failure.kind === "retry" && lastAttempt) {
            if (failure.code === "network") deps.smtpTransports.evict(clientCode);
            return failPermanently(failure.error, failure.code);
          }
          if (failure.kind === "retry") {
            // Nothing was accepted; a connection failure also drops the transport, so the next attempt
            // looks the host up again (its address may have moved).
            if (failure.code === "network") deps.smtpTransports.evict(clientCode);
            await messages.requeue(jobId, { code: failure.code, message: failure.error.message }, at);
            throw failure.error;
          }
          if (failure.kind === "unknown") {
            deps.smtpTransports.evict(clientCode);
            log.warn(
              { messageId },
              "send_email: connection lost after the message was sent; outcome unknown",
            );
          }
          return failPermanently(
            failure.error,
            failure.kind === "unknown" ? failure.error.code : failure.code,
          );
        }
        const acceptedAt = deps.clock();
        await messages.accepted(jobId, messageId, acceptedAt);
        await statusChanged(attempt, "sent", acceptedAt, messageId);
        log.info({ messageId }, "send_email: accepted by the SMTP server");
        return { messageId, status: "accepted", response, alreadySent: false };
      });
    };
  },
});

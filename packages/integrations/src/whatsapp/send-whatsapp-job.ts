import { AppError, permanentFailure } from "@ecodrix/platform";
import { defineJob, RATE_LIMIT_MAX_WAIT_MS, waitForRateSlot } from "@ecodrix/queue";
import type { Db } from "mongodb";
import { messageLogOf } from "../message-log/message-log.js";
import {
  claimSend,
  failPermanently as failSend,
  openSend,
  type SendChannel,
} from "../message-log/message-send-guard.js";
import { createGraphClient, GRAPH_REQUEST_TIMEOUT_MS } from "./graph-client.js";
import { sendWhatsappContract } from "./whatsapp-contracts.js";
import {
  GraphApiError,
  isAuthError,
  isConnectError,
  mapGraphError,
  WhatsappErrorCode,
} from "./whatsapp-errors.js";
import { type WhatsappJobDeps, whatsappSecretsOf } from "./whatsapp-job-deps.js";
import { parameterCounts, templatesOf } from "./whatsapp-templates.js";

/** What `send_whatsapp` returns: Meta's message id. */
export interface SendWhatsappResult {
  wamid: string;
  status: "accepted";
  /** True when an earlier attempt's message was accepted and this attempt sent nothing. */
  alreadySent: boolean;
}

interface GraphSendAnswer {
  messages?: { id?: string }[];
}

/** The exact `lastError` of a missing or unapproved template (runbook §8). */
export const templateNotFoundMessage = (name: string, language: string) =>
  `Template not found: ${name} (${language})`;

/** An attempt's request is surely over (slot waited for, then answered or timed out) this long after its claim. */
const SENDING_DEADLINE_MS = RATE_LIMIT_MAX_WAIT_MS + GRAPH_REQUEST_TIMEOUT_MS + 5_000;
/**
 * At 80/s a slot is 12.5 ms wide, less than a database round trip or a timer's jitter on a busy host:
 * slots are reserved 100 ms ahead (the reservation cannot make the send late) and a wake-up up to 50 ms
 * late keeps its slot (else every late wake-up would burn slots and push the next ones away). The limiter
 * spreads slots by that tolerance (80 per 1,050 ms, 76/s), which also absorbs the jitter between a send's
 * start and its request reaching Meta: measured at the fake Graph API, the busiest one-second window held
 * 82 with 25 ms and no spread, 80 with this (npm run bench:whatsapp).
 */
const RATE_SLOT_OPTIONS = { leadMs: 100, lateToleranceMs: 50 };
/** How `send_whatsapp` differs from `send_email` in the message log's send flow. */
const WHATSAPP_CHANNEL: SendChannel<SendWhatsappResult> = {
  channel: "whatsapp",
  alreadySent: (wamid) => ({ wamid, status: "accepted", alreadySent: true }),
  // The stored code is thrown again as it is (Meta's error code or ours).
  failedCode: (stored) => stored ?? WhatsappErrorCode.rejected,
  failedMessage: "The message failed",
  // Looks again every half second for the other attempt's answer (Meta usually answers long before the
  // deadline).
  inFlight: { recheckMs: 500, reason: "an earlier attempt's request to Meta is in flight" },
  outcomeUnknown: {
    code: WhatsappErrorCode.outcomeUnknown,
    message:
      "An earlier attempt sent the message but Meta's answer was never recorded (the worker stopped mid-request): it may have been delivered; check with the recipient before sending it again as a new message",
  },
};

/**
 * `send_whatsapp`: one template message through the client's phone number.
 *
 * At most one message per job, across retries, timeouts and worker crashes: the message log entry (unique
 * on the job id) is claimed `queued → sending` before the request and records Meta's wamid after it. An
 * attempt that finds a wamid sends nothing; one that finds another attempt's request still in flight waits
 * for it (deferred, no retry counted). The request is not cancelled by the job's timeout, so its answer is
 * always recorded by the process that sent it. Only when a request's outcome cannot be known (Meta did not
 * answer, or the process died mid-request) does the job fail without sending again.
 */
export const sendWhatsappJob = defineJob({
  ...sendWhatsappContract,
  limits: { maxRetries: 6, timeoutMs: 60_000 },
  create: (deps: WhatsappJobDeps) => {
    const rate = { max: deps.config.whatsapp.messagesPerSecond, perMs: 1000 };

    return async ({ job, log, signal }): Promise<SendWhatsappResult> => {
      const jobId = String(job._id);
      const { payload } = job;
      const clientCode = job.clientCode;
      if (!clientCode) {
        throw permanentFailure(WhatsappErrorCode.notConfigured, "send_whatsapp needs the job's clientCode");
      }
      const template = { name: payload.templateName, language: payload.language };

      return deps.tenancy.tenantConnections.withDb(clientCode, async (db: Db) => {
        const messages = messageLogOf(db);
        const { attempt, earlier } = await openSend(WHATSAPP_CHANNEL, deps, {
          messages,
          jobId,
          clientCode,
          message: {
            to: payload.to,
            templateName: payload.templateName,
            language: payload.language,
            ...(payload.context ? { context: payload.context } : {}),
          },
        });
        if (earlier) return earlier;
        const failPermanently = (error: AppError, code: string) => failSend(attempt, error, code);

        const stored = await templatesOf(db).findOne(template);
        if (String(stored?.status ?? "").toUpperCase() !== "APPROVED") {
          return failPermanently(
            permanentFailure(
              WhatsappErrorCode.templateNotFound,
              templateNotFoundMessage(template.name, template.language),
            ),
            WhatsappErrorCode.templateNotFound,
          );
        }
        const expected = parameterCounts(stored ?? { components: [] });
        const bodyParams = payload.bodyParams ?? [];
        const headerParams = payload.headerParams ?? [];
        for (const [part, given, wanted] of [
          ["body", bodyParams.length, expected.body],
          ["header", headerParams.length, expected.header],
        ] as const) {
          if (given !== wanted) {
            return failPermanently(
              permanentFailure(
                WhatsappErrorCode.parameterCount,
                `Template ${template.name} (${template.language}) takes ${wanted} ${part} parameter(s); the message gave ${given}`,
              ),
              WhatsappErrorCode.parameterCount,
            );
          }
        }

        let secrets: Awaited<ReturnType<typeof whatsappSecretsOf>>;
        try {
          secrets = await whatsappSecretsOf(deps, clientCode, "phoneNumberId");
        } catch (error) {
          if (error instanceof AppError) return failPermanently(error, error.code);
          throw error;
        }
        const phoneNumberId = secrets.phoneNumberId as string;

        const outcome = await claimSend(attempt, SENDING_DEADLINE_MS);
        if (outcome) return outcome;
        // The slot is the last step before the request, so what Meta sees keeps the slots' spacing. A
        // deferral (the slot is far ahead) or an abort while waiting gives the claim back: nothing was sent.
        try {
          await waitForRateSlot(
            deps.rateLimiter,
            `whatsapp:${phoneNumberId}`,
            rate,
            signal,
            RATE_SLOT_OPTIONS,
          );
        } catch (error) {
          await messages.release(jobId);
          throw error;
        }

        const components = [
          ...(headerParams.length > 0
            ? [{ type: "header", parameters: headerParams.map((text) => ({ type: "text", text })) }]
            : []),
          ...(bodyParams.length > 0
            ? [{ type: "body", parameters: bodyParams.map((text) => ({ type: "text", text })) }]
            : []),
        ];
        const graph = createGraphClient(deps.config.whatsapp, secrets.token);
        let answer: GraphSendAnswer;
        try {
          answer = await graph.call<GraphSendAnswer>(
            "POST",
            `${encodeURIComponent(phoneNumberId)}/messages`,
            {
              messaging_product: "whatsapp",
              recipient_type: "individual",
              to: payload.to.replace(/^\+/, ""),
              type: "template",
              template: {
                name: template.name,
                language: { code: template.language },
                ...(components.length > 0 ? { components } : {}),
              },
            },
          );
        } catch (error) {
          const at = deps.clock();
          const lastAttempt = job.retries >= job.maxRetries;
          if (error instanceof GraphApiError) {
            const mapped = mapGraphError(error, template);
            if (isAuthError(error)) {
              await deps.tenancy.clients.setIntegrationStatus(clientCode, "whatsappStatus", "invalid_token");
            }
            const code = error.code === undefined ? `HTTP ${error.httpStatus}` : String(error.code);
            // On the last attempt the queue will not retry: the log and the CRM hear of the failure now.
            if (mapped.retryable && !lastAttempt) {
              // Meta answered with an error: nothing was sent, a retry may send.
              await messages.requeue(jobId, { code, message: error.said }, at);
              throw mapped;
            }
            return failPermanently(mapped, code);
          }
          if (isConnectError(error)) {
            const unreachable = new AppError(
              WhatsappErrorCode.unavailable,
              `Graph API unreachable: ${error instanceof Error ? error.message : String(error)}`,
              502,
              { retryable: !lastAttempt, cause: error },
            );
            if (lastAttempt) return failPermanently(unreachable, "network");
            await messages.requeue(
              jobId,
              { code: "network", message: error instanceof Error ? error.message : String(error) },
              at,
            );
            throw unreachable;
          }
          // The request may have reached Meta (a timeout, a connection cut mid-answer): sending again
          // could duplicate the message, so the job fails here, saying so.
          log.warn({ err: error }, "send_whatsapp: no answer from Meta; outcome unknown");
          return failPermanently(
            permanentFailure(
              WhatsappErrorCode.outcomeUnknown,
              `No answer from the Graph API (${error instanceof Error ? error.message : String(error)}): the message may have been delivered; check with the recipient before sending it again as a new message`,
            ),
            WhatsappErrorCode.outcomeUnknown,
          );
        }
        const wamid = answer.messages?.[0]?.id;
        if (!wamid) {
          log.error({ answer }, "send_whatsapp: Meta accepted the request but returned no message id");
          return failPermanently(
            permanentFailure(
              WhatsappErrorCode.outcomeUnknown,
              "Meta answered without a message id: the message may have been sent; check before sending it again",
            ),
            WhatsappErrorCode.outcomeUnknown,
          );
        }
        await messages.accepted(jobId, wamid, deps.clock());
        log.info({ wamid }, "send_whatsapp: accepted by Meta");
        return { wamid, status: "accepted", alreadySent: false };
      });
    };
  },
});

import { type AppError, permanentFailure } from "@ecodrix/platform";
import { deferJob, enqueueJob, type QueueProducer } from "@ecodrix/queue";
import type { IntegrationContext } from "../integration-context.js";
import type { MessageLog, MessageLogDocument, NewMessage } from "./message-log.js";
import { messageStatusChangedContract } from "./message-status-contracts.js";

/**
 * What differs between the channels that send through the message log (`send_whatsapp`, `send_email`):
 * their result, error codes and wording. The flow itself (claim `queued → sending`, what an earlier
 * attempt left, permanent failure told to the CRM) is the same for both and lives here once.
 */
export interface SendChannel<R> {
  channel: MessageLogDocument["channel"];
  /** The job's result when an earlier attempt's message was accepted (this attempt sends nothing). */
  alreadySent(providerMessageId: string): R;
  /** The code an earlier attempt's permanent failure is thrown with again, from the code it stored. */
  failedCode(stored: string | undefined): string;
  /** The message of that failure when the log holds none. */
  failedMessage: string;
  /** An earlier attempt's send still in flight: look again at most this often, saying why. */
  inFlight: { recheckMs: number; reason: string };
  /** An earlier attempt's send whose answer was never recorded (its worker stopped mid-send). */
  outcomeUnknown: { code: string; message: string };
}

/** One attempt of a sending job, on its message log entry. */
export interface SendAttempt<R> {
  channel: SendChannel<R>;
  messages: MessageLog;
  queue: Pick<QueueProducer, "enqueue">;
  clock: () => Date;
  jobId: string;
  clientCode: string;
  /** The payload's context: outcomes are told to the CRM only when there is one. */
  context: IntegrationContext | undefined;
}

/**
 * What an earlier attempt left: a provider id (done, send nothing), a permanent failure, a send still in
 * flight (wait for it) or one whose outcome is unknown (fail, never resend). Undefined: free to send.
 */
export async function earlierOutcome<R>(
  attempt: SendAttempt<R>,
  entry: MessageLogDocument,
  now: Date,
): Promise<R | undefined> {
  const { channel, messages } = attempt;
  if (entry.providerMessageId) return channel.alreadySent(entry.providerMessageId);
  if (entry.status === "failed") {
    const last = entry.errors[entry.errors.length - 1];
    throw permanentFailure(channel.failedCode(last?.code), last?.message ?? channel.failedMessage);
  }
  if (entry.status === "sending") {
    const until = entry.sendingUntil?.getTime() ?? 0;
    if (until > now.getTime()) {
      // Not a failure: this attempt waits (no retry counted) for the other one's outcome.
      throw deferJob(
        Math.min(until - now.getTime() + 250, channel.inFlight.recheckMs),
        channel.inFlight.reason,
      );
    }
    const error = permanentFailure(channel.outcomeUnknown.code, channel.outcomeUnknown.message);
    await messages.fail(entry.jobId, { code: channel.outcomeUnknown.code, message: error.message }, now);
    throw error;
  }
  return undefined;
}

/**
 * Opens the job's message log entry (created `queued`, or the one an earlier attempt left) and reads
 * what that attempt left: `earlier` is the job's result or undefined (free to send through `attempt`).
 */
export async function openSend<R>(
  channel: SendChannel<R>,
  deps: Pick<SendAttempt<R>, "queue" | "clock">,
  parts: Pick<SendAttempt<R>, "messages" | "jobId" | "clientCode"> & {
    message: Omit<NewMessage, "jobId" | "channel">;
  },
): Promise<{ attempt: SendAttempt<R>; earlier: R | undefined }> {
  const { message, ...rest } = parts;
  const attempt: SendAttempt<R> = {
    ...rest,
    channel,
    queue: deps.queue,
    clock: () => deps.clock(),
    context: message.context,
  };
  const now = attempt.clock();
  const entry = await attempt.messages.open(
    { jobId: attempt.jobId, channel: channel.channel, ...message },
    now,
  );
  return { attempt, earlier: await earlierOutcome(attempt, entry, now) };
}

/**
 * Claims the entry `queued → sending` until `sendingDeadlineMs` from now. Undefined: claimed, send now;
 * otherwise what an earlier attempt left (it took the claim meanwhile).
 */
export async function claimSend<R>(
  attempt: SendAttempt<R>,
  sendingDeadlineMs: number,
): Promise<R | undefined> {
  const { messages, jobId, clock } = attempt;
  const started = clock();
  const claimed = await messages.claimSend(jobId, started, new Date(started.getTime() + sendingDeadlineMs));
  if (claimed) return undefined;
  const again = await messages.find(jobId);
  const outcome = again ? await earlierOutcome(attempt, again, clock()) : undefined;
  if (outcome) return outcome;
  throw new Error(`message log entry of job ${jobId} is in an unexpected state`);
}

/** `message_status_changed` for the CRM, when the payload had a context (once per message and status). */
export async function statusChanged<R>(
  attempt: SendAttempt<R>,
  status: "sent" | "failed",
  at: Date,
  messageId: string,
  error?: string,
): Promise<void> {
  if (!attempt.context) return;
  await enqueueJob(attempt.queue, messageStatusChangedContract, {
    clientCode: attempt.clientCode,
    payload: {
      channel: attempt.channel.channel,
      messageId,
      status,
      at: at.toISOString(),
      ...(error === undefined ? {} : { error }),
      context: attempt.context,
    },
    dedupeKey: `msg:${messageId}:${status}`,
  });
}

/** Fails the entry for good (nothing was sent, or nothing may be sent again), tells the CRM, throws. */
export async function failPermanently<R>(
  attempt: SendAttempt<R>,
  error: AppError,
  code: string,
): Promise<never> {
  const at = attempt.clock();
  await attempt.messages.fail(attempt.jobId, { code, message: error.message }, at);
  await statusChanged(attempt, "failed", at, attempt.jobId, error.message);
  throw error;
}

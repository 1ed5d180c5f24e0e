import type { ClientService, SecretBox } from "@ecodrix/domain";
import { AppError, type Config, permanentFailure, retryLater } from "@ecodrix/platform";
import { defineJob, enqueueJob, type QueueProducer } from "@ecodrix/queue";
import { OAuth2Client } from "google-auth-library";
// The Calendar API alone: the googleapis root module loads every Google API (seconds of start-up).
import { type calendar_v3, calendar as calendarApi } from "googleapis/build/src/apis/calendar/index.js";
import type { Db } from "mongodb";
import { type CreateMeetResult, createMeetContract, meetCreatedContract } from "./google-contracts.js";
import { GoogleErrorCode, googleFailureOf, mapGoogleFailure, needsReconnect } from "./google-errors.js";
import { isGoogleConfigured } from "./google-oauth-client.js";
import { createGoogleTokenRepository } from "./google-token-repository.js";

const REQUEST_TIMEOUT_MS = 15_000;

/** What the Google job handlers are built from (the worker's WorkerJobDeps has all of it). */
export interface GoogleJobDeps {
  config: Pick<Config, "google">;
  /** The central database (google_tokens). */
  db: Db;
  tenancy: {
    crypto: Pick<SecretBox, "encrypt" | "decrypt">;
    clients: Pick<ClientService, "setIntegrationStatus">;
  };
  queue: Pick<QueueProducer, "enqueue">;
}

/** The Meet link of an event: `hangoutLink`, else the conference's video entry point. */
function meetUrlOf(event: calendar_v3.Schema$Event): string | undefined {
  return (
    event.hangoutLink ??
    event.conferenceData?.entryPoints?.find((entry) => entry.entryPointType === "video")?.uri ??
    undefined
  );
}

/**
 * `create_meet`: Calendar `events.insert` on the connected account's primary calendar, with a Meet
 * conference (`conferenceData.createRequest`, `conferenceDataVersion: 1`).
 *
 * Idempotent across retries (a timeout after Google created the event, a worker crash, a requeue): the
 * event's id is the job id (24 hex digits are valid Calendar ids, base32hex), so a second insert is
 * answered 409 `duplicate` and the handler reads the existing event instead; the conference request id
 * is the job id too, so Google never makes a second conference for it.
 */
export const createMeetJob = defineJob({
  ...createMeetContract,
  create: (deps: GoogleJobDeps) => {
    const tokens = createGoogleTokenRepository({ db: deps.db, crypto: deps.tenancy.crypto });
    const google = deps.config.google;

    async function markReconnectRequired(clientCode: string): Promise<void> {
      await tokens.markReconnectRequired(clientCode);
      await deps.tenancy.clients.setIntegrationStatus(clientCode, "googleStatus", "reconnect_required");
    }

    return async ({ job, log, signal }): Promise<CreateMeetResult> => {
      const jobId = String(job._id);
      const { clientCode, payload } = job;
      if (!clientCode) {
        throw permanentFailure(GoogleErrorCode.notConnected, "create_meet needs the job's clientCode");
      }
      if (!isGoogleConfigured(google)) {
        throw permanentFailure(
          GoogleErrorCode.notConfigured,
          "Google is not configured on the worker: set GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET, then requeue",
        );
      }
      const startsAt = Date.parse(payload.startsAt);
      if (Number.isNaN(startsAt)) {
        throw permanentFailure(
          GoogleErrorCode.rejected,
          `payload.startsAt is not a valid date: ${payload.startsAt}`,
        );
      }
      const credentials = await tokens.credentials(clientCode);
      if (!credentials) {
        throw permanentFailure(
          GoogleErrorCode.notConnected,
          `Google Calendar is not connected for ${clientCode}: connect it (runbook §1 step 4), then requeue`,
        );
      }
      if (credentials.status === "reconnect_required") {
        throw permanentFailure(
          GoogleErrorCode.reconnectRequired,
          `Google Calendar access of ${clientCode} must be reconnected (runbook §1 step 4), then requeue`,
        );
      }

      const auth = new OAuth2Client({
        clientId: google.clientId,
        clientSecret: google.clientSecret,
        endpoints: { oauth2TokenUrl: google.tokenUrl },
        transporterOptions: { timeout: REQUEST_TIMEOUT_MS, signal },
      });
      auth.setCredentials({ refresh_token: credentials.refreshToken });
      const calendar = calendarApi({ version: "v3", auth, rootUrl: google.apiBaseUrl });
      // Retries are the queue's (backoff, Retry-After, dead letter), not the HTTP client's.
      const requestOptions = { timeout: REQUEST_TIMEOUT_MS, signal, retry: false };
      const eventId = jobId.toLowerCase();
      const attendees = payload.attendees ?? [];

      async function call<T>(request: () => Promise<{ data: T }>): Promise<T> {
        try {
          return (await request()).data;
        } catch (error) {
          const failure = googleFailureOf(error);
          if (!failure) throw error;
          if (failure.reason === "duplicate") throw error;
          if (needsReconnect(failure)) await markReconnectRequired(clientCode as string);
          throw mapGoogleFailure(failure, clientCode as string);
        }
      }

      let event: calendar_v3.Schema$Event;
      try {
        event = await call(() =>
          calendar.events.insert(
            {
              calendarId: "primary",
              conferenceDataVersion: 1,
              sendUpdates: attendees.length > 0 ? "all" : "none",
              requestBody: {
                id: eventId,
                summary: payload.title,
                start: { dateTime: payload.startsAt },
                end: { dateTime: new Date(startsAt + payload.durationMinutes * 60_000).toISOString() },
                ...(attendees.length > 0 ? { attendees: attendees.map((email) => ({ email })) } : {}),
                conferenceData: {
                  createRequest: { requestId: jobId, conferenceSolutionKey: { type: "hangoutsMeet" } },
                },
              },
            },
            requestOptions,
          ),
        );
      } catch (error) {
        if (googleFailureOf(error)?.reason !== "duplicate") throw error;
        // An earlier attempt of this job created it (its answer was lost): read it, create nothing.
        log.info({ eventId }, "create_meet: the event of this job exists already; reading it");
        event = await call(() => calendar.events.get({ calendarId: "primary", eventId }, requestOptions));
      }

      if (event.status === "cancelled") {
        throw permanentFailure(
          GoogleErrorCode.eventCancelled,
          `The meeting this job created (event ${eventId}) was deleted in Google Calendar`,
        );
      }
      const meetUrl = meetUrlOf(event);
      if (!meetUrl) {
        const status = event.conferenceData?.createRequest?.status?.statusCode ?? "none";
        // Google may still be creating the conference: the next attempt reads the event (409 path) again.
        if (status === "pending") {
          throw retryLater(
            GoogleErrorCode.noMeetLink,
            `Google is still creating the Meet of event ${eventId}`,
            5_000,
          );
        }
        throw new AppError(
          GoogleErrorCode.noMeetLink,
          `Google created event ${eventId} without a Meet link (conference status ${status})`,
          502,
          { retryable: false },
        );
      }
      const result = { eventId: event.id ?? eventId, meetUrl };
      if (payload.context) {
        await enqueueJob(deps.queue, meetCreatedContract, {
          clientCode,
          payload: { ...result, context: payload.context },
          dedupeKey: `meet:${jobId}`,
        });
      }
      log.info({ eventId: result.eventId }, "create_meet: meeting created");
      return result;
    };
  },
});

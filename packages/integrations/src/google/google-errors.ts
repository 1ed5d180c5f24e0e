import { AppError, permanentFailure, retryLater } from "@ecodrix/platform";

/** The Google integration's error codes, as they appear in a job's `lastError` history. */
export const GoogleErrorCode = {
  notConfigured: "ECODRIX_GOOGLE_NOT_CONFIGURED",
  notConnected: "ECODRIX_GOOGLE_NOT_CONNECTED",
  reconnectRequired: "ECODRIX_GOOGLE_RECONNECT_REQUIRED",
  clientRefused: "ECODRIX_GOOGLE_CLIENT_REFUSED",
  rateLimited: "ECODRIX_GOOGLE_RATE_LIMITED",
  rejected: "ECODRIX_GOOGLE_REJECTED",
  unavailable: "ECODRIX_GOOGLE_UNAVAILABLE",
  noMeetLink: "ECODRIX_GOOGLE_NO_MEET_LINK",
  eventCancelled: "ECODRIX_GOOGLE_EVENT_CANCELLED",
} as const;

/**
 * The HTTP answer inside a gaxios error. Duck-typed: google-auth-library and googleapis each bring their
 * own copy of gaxios, so `instanceof GaxiosError` would depend on which copy threw.
 */
export function httpResponseOf(
  error: unknown,
): { status: number; data: unknown; headers: Record<string, string> } | undefined {
  const response = (error as { response?: { status?: unknown; data?: unknown; headers?: unknown } } | null)
    ?.response;
  if (!response || typeof response.status !== "number") return undefined;
  const headers: Record<string, string> = {};
  const raw = response.headers as { forEach?: unknown } | null | undefined;
  // A fetch Headers (of whichever fetch implementation gaxios used), or a plain object.
  if (raw && typeof raw.forEach === "function") {
    (raw as Headers).forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
  } else if (raw && typeof raw === "object") {
    for (const [name, value] of Object.entries(raw)) headers[name.toLowerCase()] = String(value);
  }
  return { status: response.status, data: response.data, headers };
}

/** `Retry-After` in seconds or as an HTTP date, in milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** What Google said, for `lastError`: its OAuth error or its API error's reason and message. */
export interface GoogleFailure {
  status: number;
  /** OAuth (`invalid_grant`) or Calendar (`rateLimitExceeded`, `duplicate` …) reason. */
  reason: string;
  message: string;
  retryAfterMs: number | undefined;
  /** True when the token endpoint answered (the refresh failed), not the Calendar API. */
  oauth: boolean;
}

export function googleFailureOf(error: unknown): GoogleFailure | undefined {
  const response = httpResponseOf(error);
  if (!response) return undefined;
  const data = response.data as
    | {
        error?:
          | string
          | { code?: number; message?: string; errors?: Array<{ reason?: string }>; status?: string };
        error_description?: string;
      }
    | undefined;
  const retryAfter = retryAfterMs(response.headers["retry-after"]);
  if (typeof data?.error === "string") {
    return {
      status: response.status,
      reason: data.error,
      message: data.error_description ?? data.error,
      retryAfterMs: retryAfter,
      oauth: true,
    };
  }
  const apiError = data?.error;
  return {
    status: response.status,
    reason: apiError?.errors?.[0]?.reason ?? apiError?.status ?? `http_${response.status}`,
    message: apiError?.message ?? `HTTP ${response.status}`,
    retryAfterMs: retryAfter,
    oauth: false,
  };
}

const RATE_LIMIT_REASONS = new Set(["rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"]);
/** Scopes missing or access withdrawn: only a new consent (runbook §1 step 4) helps. */
const RECONNECT_REASONS = new Set(["invalid_grant", "insufficientPermissions"]);

/** True when the failure means the client must connect Google again. */
export function needsReconnect(failure: GoogleFailure): boolean {
  return RECONNECT_REASONS.has(failure.reason);
}

/**
 * Google's answer to the queue's retry rules: a rate limit waits (Retry-After when given); a refused
 * grant, a missing scope, a refused OAuth client or a rejected request (4xx) is permanent; 5xx retries with
 * backoff (and so does a 401 that survived a token refresh). The message carries Google's reason and message, never a token.
 */
export function mapGoogleFailure(failure: GoogleFailure, clientCode: string): AppError {
  const said = `Google ${failure.status} ${failure.reason}: ${failure.message}`;
  if (needsReconnect(failure)) {
    return permanentFailure(
      GoogleErrorCode.reconnectRequired,
      `Google refused ${clientCode}'s Calendar access (${said}); connect Google Calendar again (runbook §1 step 4)`,
    );
  }
  if (failure.oauth && (failure.reason === "invalid_client" || failure.reason === "unauthorized_client")) {
    return permanentFailure(
      GoogleErrorCode.clientRefused,
      `Google refused the OAuth client (${said}); check GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET`,
    );
  }
  if (failure.status === 429 || RATE_LIMIT_REASONS.has(failure.reason)) {
    return retryLater(GoogleErrorCode.rateLimited, said, failure.retryAfterMs ?? 30_000);
  }
  // 401 after google-auth-library has already refreshed once and retried: transient on Google's side.
  if (failure.status >= 500 || failure.status === 408 || failure.status === 401) {
    return new AppError(GoogleErrorCode.unavailable, said, 502, { retryable: true });
  }
  return permanentFailure(GoogleErrorCode.rejected, said);
}

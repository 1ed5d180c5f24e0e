import { AppError, permanentFailure, retryLater } from "@ecodrix/platform";

/** The WhatsApp integration's error codes, as they appear in a job's `lastError` history. */
export const WhatsappErrorCode = {
  notConfigured: "ECODRIX_WHATSAPP_NOT_CONFIGURED",
  invalidToken: "ECODRIX_WHATSAPP_INVALID_TOKEN",
  templateNotFound: "ECODRIX_WHATSAPP_TEMPLATE_NOT_FOUND",
  templateRejected: "ECODRIX_WHATSAPP_TEMPLATE_REJECTED",
  parameterCount: "ECODRIX_WHATSAPP_PARAMETER_COUNT",
  outsideWindow: "ECODRIX_WHATSAPP_OUTSIDE_24H_WINDOW",
  rateLimited: "ECODRIX_WHATSAPP_RATE_LIMITED",
  rejected: "ECODRIX_WHATSAPP_REJECTED",
  unavailable: "ECODRIX_WHATSAPP_UNAVAILABLE",
  inFlight: "ECODRIX_WHATSAPP_SEND_IN_FLIGHT",
  outcomeUnknown: "ECODRIX_WHATSAPP_OUTCOME_UNKNOWN",
} as const;

/** What the Graph API answered with an error (`{ error: { message, type, code, error_subcode, error_data } }`). */
export class GraphApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: number | undefined,
    readonly subcode: number | undefined,
    readonly type: string | undefined,
    readonly metaMessage: string,
    readonly details: string | undefined,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`Meta error ${code ?? `HTTP ${httpStatus}`}: ${metaMessage}`);
    this.name = "GraphApiError";
  }

  /** Meta's code and message (and details), for `lastError` and the message log. */
  get said(): string {
    const code = this.code === undefined ? `HTTP ${this.httpStatus}` : String(this.code);
    const subcode = this.subcode === undefined ? "" : `/${this.subcode}`;
    const details = this.details && this.details !== this.metaMessage ? ` (${this.details})` : "";
    return `Meta error ${code}${subcode}: ${this.metaMessage}${details}`;
  }
}

/** Network failures before the request reached Meta: nothing can have been sent. */
const CONNECT_ERRORS = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** True when the request certainly never reached Meta (so resending cannot duplicate a message). */
export function isConnectError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && CONNECT_ERRORS.has(code);
}

/** `Retry-After` in seconds or as an HTTP date, in milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Throughput and pair rate limits: 4 (app), 80007 (WABA), 130429 (throughput), 131056 (pair). */
const RATE_LIMIT_CODES = new Set([4, 80007, 130429, 131056]);
/** Template problems: 132001 (does not exist), 132015 (paused), 132016 (disabled). */
const TEMPLATE_CODES = new Set([132001, 132015, 132016]);
/** Transient on Meta's side: 1 (unknown), 2 (service), 131000 (something went wrong), 131016 (overloaded). */
const TRANSIENT_CODES = new Set([1, 2, 131000, 131016]);

/** 190 (token expired/invalid), 0/102 (auth), 3 (capability), 10 and 200–299 (permission), or HTTP 401/403. */
export function isAuthError(error: GraphApiError): boolean {
  const code = error.code;
  if (code === 190 || code === 0 || code === 102 || code === 3 || code === 10) return true;
  if (code !== undefined && code >= 200 && code <= 299) return true;
  return error.code === undefined && (error.httpStatus === 401 || error.httpStatus === 403);
}

/**
 * Meta's answer to the queue's retry rules. The message always carries Meta's code and message;
 * `template` names the template for the template errors.
 */
export function mapGraphError(error: GraphApiError, template?: { name: string; language: string }): AppError {
  const said = error.said;
  const code = error.code;
  if (code !== undefined && RATE_LIMIT_CODES.has(code)) {
    return retryLater(
      WhatsappErrorCode.rateLimited,
      said,
      error.retryAfterMs ?? (code === 131056 ? 60_000 : 30_000),
    );
  }
  if (isAuthError(error)) {
    return permanentFailure(
      WhatsappErrorCode.invalidToken,
      `${said}; Meta refused the WhatsApp token: set new WhatsApp secrets (runbook §1 step 2), then requeue`,
    );
  }
  if (code !== undefined && TEMPLATE_CODES.has(code)) {
    const named = template ? `Template ${template.name} (${template.language})` : "Template";
    return permanentFailure(WhatsappErrorCode.templateRejected, `${named} refused by Meta: ${said}`);
  }
  if (code === 131047) {
    return permanentFailure(
      WhatsappErrorCode.outsideWindow,
      `${said}; more than 24 hours have passed since the recipient last replied (outside the 24-hour customer service window)`,
    );
  }
  if (
    error.httpStatus >= 500 ||
    (code !== undefined && TRANSIENT_CODES.has(code)) ||
    error.httpStatus === 408
  ) {
    return new AppError(WhatsappErrorCode.unavailable, said, 502, {
      retryable: true,
      ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    });
  }
  return permanentFailure(WhatsappErrorCode.rejected, said);
}

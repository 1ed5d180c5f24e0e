/**
 * The coded error model shared by the API and the worker. Codes read `ECODRIX_<AREA>_<REASON>`;
 * messages are safe to show to the caller (never a secret, never a driver internal).
 * The API maps `statusCode` to HTTP; the worker reads `retryable` / `retryAfterMs`.
 */
export interface AppErrorOptions {
  cause?: unknown;
  /** For the worker: false means do not retry (e.g. an invalid WhatsApp token). Default: 5xx retry, 4xx do not. */
  retryable?: boolean;
  /** For the worker: retry no sooner than this (e.g. a rate limit's Retry-After). */
  retryAfterMs?: number;
  /** Extra response headers (e.g. Retry-After on a 429). */
  headers?: Record<string, string>;
  /**
   * Extra fields of the error body beside statusCode, error, message and code (e.g. `existingLeadId`
   * on a duplicate lead, a `hint` on a missing template). Safe to show to the caller, like the message.
   */
  details?: Record<string, string | number | boolean>;
  /**
   * A 5xx whose message the caller may see (e.g. a 503 naming the setting that is missing). Other 5xx
   * messages are replaced by "Internal Server Error" in responses.
   */
  expose?: boolean;
}

export class AppError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly headers: Record<string, string> | undefined;
  readonly details: Record<string, string | number | boolean> | undefined;
  /** The message is safe for the caller whatever the status (4xx always are). */
  readonly expose: boolean;

  constructor(code: string, message: string, statusCode = 500, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.statusCode = statusCode;
    this.retryable = options.retryable ?? statusCode >= 500;
    this.retryAfterMs = options.retryAfterMs;
    this.headers = options.headers;
    this.details = options.details;
    this.expose = options.expose ?? statusCode < 500;
  }
}

export const badRequest = (code: string, message: string) => new AppError(code, message, 400);
export const unauthorized = (code: string, message: string) => new AppError(code, message, 401);
export const forbidden = (code: string, message: string) => new AppError(code, message, 403);
export const notFound = (code: string, message: string) => new AppError(code, message, 404);
export const conflict = (code: string, message: string) => new AppError(code, message, 409);
/** A feature that cannot work as configured (a missing setting): the message says what to set. */
export const serviceUnavailable = (code: string, message: string) =>
  new AppError(code, message, 503, { expose: true, retryable: false });

/** A job failure that must not be retried: the same input would fail again. */
export function permanentFailure(code: string, message: string, cause?: unknown): AppError {
  return new AppError(code, message, 422, { cause, retryable: false });
}

/** A job failure to retry no sooner than `retryAfterMs` (rate limits). */
export function retryLater(code: string, message: string, retryAfterMs: number, cause?: unknown): AppError {
  return new AppError(code, message, 503, { cause, retryable: true, retryAfterMs });
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** MongoDB duplicate key (E11000). Repositories turn it into a ConflictError. */
export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === 11000;
}

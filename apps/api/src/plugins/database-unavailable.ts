import { AppError } from "@ecodrix/platform";
import {
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from "mongodb";

/** Seconds a caller is asked to wait (Retry-After) when the database does not answer. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * Driver errors that mean "the database did not answer" (no server selectable within the timeout, a
 * connection reset or timed out, the pool cleared by a failed heartbeat), not "the request was wrong".
 * Matched by class, and by name for a driver copy loaded twice; the cause chain is followed because
 * our own errors may wrap them.
 */
const UNAVAILABLE_NAMES = new Set([
  "MongoServerSelectionError",
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
  "PoolClearedError",
  "MongoPoolClearedError",
  "PoolClosedError",
  "WaitQueueTimeoutError",
  "MongoWaitQueueTimeoutError",
  "MongoTopologyClosedError",
  "MongoNotConnectedError",
]);

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (
      current instanceof MongoServerSelectionError ||
      current instanceof MongoNetworkError ||
      current instanceof MongoTopologyClosedError ||
      current instanceof MongoNotConnectedError
    ) {
      return true;
    }
    if (current instanceof Error && UNAVAILABLE_NAMES.has(current.name)) return true;
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
}

/** 503 in the product's error format, with Retry-After: the request changed nothing the caller can rely on. */
export function databaseUnavailable(cause: unknown): AppError {
  return new AppError(
    "ECODRIX_DATABASE_UNAVAILABLE",
    `The database is not answering; retry in ${DATABASE_RETRY_AFTER_SECONDS} s`,
    503,
    {
      cause,
      retryable: true,
      retryAfterMs: DATABASE_RETRY_AFTER_SECONDS * 1000,
      headers: { "retry-after": String(DATABASE_RETRY_AFTER_SECONDS) },
    },
  );
}

/**
 * Driver timeouts of the API's connection to the central database. The driver's defaults (30 s to
 * connect and to decide a server is gone, no socket timeout) made requests hang 33–36 s while the
 * database was frozen and then answer a generic 500. With these an operation waits at most 5 s for a
 * reply (socketTimeoutMS), a retried read at most 5 s more for a server to be selectable
 * (serverSelectionTimeoutMS), and a new connection 3 s to open (connectTimeoutMS): a request to a
 * frozen database is answered 503 within about 10 s, to a stopped one within about 5 s. The API's
 * queries are indexed lookups and short writes; 5 s without a reply means the database is not answering.
 */
export const CENTRAL_MONGO_TIMEOUTS = {
  serverSelectionTimeoutMS: 5_000,
  connectTimeoutMS: 3_000,
  socketTimeoutMS: 5_000,
} as const;

import type { WhatsappConfig } from "@ecodrix/platform";
import { Agent, type Dispatcher, request } from "undici";
import { GraphApiError, retryAfterMs } from "./whatsapp-errors.js";

/** Meta answers in well under a second; this bounds an attempt, far below the job's own timeout. */
export const GRAPH_REQUEST_TIMEOUT_MS = 15_000;

/** One keep-alive pool for every Graph request of this process (many sends per second reuse sockets). */
const sharedAgent = new Agent({
  connections: 64,
  keepAliveTimeout: 30_000,
  connectTimeout: 5_000,
  headersTimeout: GRAPH_REQUEST_TIMEOUT_MS,
  bodyTimeout: GRAPH_REQUEST_TIMEOUT_MS,
});

export interface GraphClient {
  /** GET or POST `{base}/{version}/{path}`, or an absolute URL on the same origin (a `paging.next`). */
  call<T>(method: "GET" | "POST", pathOrUrl: string, body?: unknown): Promise<T>;
}

interface GraphErrorBody {
  error?: {
    message?: string;
    type?: string;
    code?: number;
    error_subcode?: number;
    error_data?: { details?: string };
    error_user_msg?: string;
  };
}

/**
 * The Graph API over undici, authenticated with the client's token. Errors are GraphApiError (Meta
 * answered) or undici's own (network); the token is sent only to the configured Graph origin.
 */
export function createGraphClient(
  config: Pick<WhatsappConfig, "graphBaseUrl" | "graphVersion">,
  token: string,
  dispatcher: Dispatcher = sharedAgent,
): GraphClient {
  const base = new URL(`${config.graphBaseUrl}/${config.graphVersion}/`);
  return {
    async call<T>(method: "GET" | "POST", pathOrUrl: string, body?: unknown): Promise<T> {
      const url = /^https?:\/\//.test(pathOrUrl) ? new URL(pathOrUrl) : new URL(pathOrUrl, base);
      if (url.origin !== base.origin) {
        throw new Error(`Graph API answered with a link to another origin (${url.origin}); not followed`);
      }
      const response = await request(url, {
        method,
        dispatcher,
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        headersTimeout: GRAPH_REQUEST_TIMEOUT_MS,
        bodyTimeout: GRAPH_REQUEST_TIMEOUT_MS,
      });
      const text = await response.body.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : {};
      } catch {
        parsed = undefined;
      }
      if (response.statusCode >= 200 && response.statusCode < 300 && parsed !== undefined) return parsed as T;
      const error = (parsed as GraphErrorBody | undefined)?.error;
      throw new GraphApiError(
        response.statusCode,
        typeof error?.code === "number" ? error.code : undefined,
        typeof error?.error_subcode === "number" ? error.error_subcode : undefined,
        error?.type,
        error?.message ??
          (parsed === undefined ? `unreadable answer: ${text.slice(0, 200)}` : `HTTP ${response.statusCode}`),
        error?.error_data?.details ?? error?.error_user_msg,
        retryAfterMs(response.headers["retry-after"]),
      );
    },
  };
}

import { CliError } from "../command.js";
import type { AdminApiConfig } from "./admin-api-config.js";

/** An answer of the API outside 2xx, in the product's error format `{statusCode, error, message, code}`. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    apiMessage: string,
    hint?: string,
  ) {
    super(`${apiMessage} (HTTP ${status}${code ? ` ${code}` : ""})${hint ? `: ${hint}` : ""}`);
    this.name = "ApiError";
  }
}

export interface AdminApiClient {
  readonly baseUrl: string;
  request<T>(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<T>;
}

function errorBody(value: unknown): { message: string; code?: string } | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { message, code } = value as { message?: unknown; code?: unknown };
  if (typeof message !== "string") return undefined;
  return { message, ...(typeof code === "string" ? { code } : {}) };
}

/** Why fetch failed, in words: undici hides the socket error (ECONNREFUSED …) in `cause`. */
function networkReason(error: unknown): string {
  if (error instanceof Error && error.name === "TimeoutError") return "no answer in time";
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown }) : undefined;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof cause?.message === "string") return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * The admin API over HTTP, authenticated with `x-core-api-key`. Every failure becomes one CliError
 * line: the API's own message and code for an error answer, the socket's reason when it cannot be
 * reached. Request bodies (which may hold secrets) are never part of a message.
 */
export function createAdminApiClient(config: AdminApiConfig, timeoutMs = 30_000): AdminApiClient {
  const { baseUrl, token, tokenSource } = config;
  return {
    baseUrl,
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      let response: Response;
      try {
        response = await fetch(`${baseUrl}${path}`, {
          method,
          headers: {
            "x-core-api-key": token,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        throw new CliError(
          `cannot reach the API at ${baseUrl} (${networkReason(error)}): is it running? (--url, default http://localhost:3000)`,
        );
      }
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      if (!response.ok) {
        const apiError = errorBody(parsed);
        const hint =
          response.status === 401
            ? `the admin token came from ${tokenSource}`
            : apiError
              ? undefined
              : "is --url the ECODrIx API?";
        throw new ApiError(
          response.status,
          apiError?.code,
          apiError?.message ?? `${response.status} ${response.statusText}`.trim(),
          hint,
        );
      }
      if (parsed === undefined) {
        throw new CliError(
          `the API at ${baseUrl} answered ${method} ${path} with HTTP ${response.status} and no JSON: is --url the ECODrIx API?`,
        );
      }
      return parsed as T;
    },
  };
}

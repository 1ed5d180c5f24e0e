import { session } from "./session.js";

/** An error in the product's format `{ statusCode, error, message, code }`, or a network failure (0). */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

let onUnauthorized: (error: ApiError) => void = () => {};

/** Called when the API refuses the token (401): the app signs out and shows the login form. */
export function whenUnauthorized(handler: (error: ApiError) => void): void {
  onUnauthorized = handler;
}

/** Path segments from data (job ids, client codes) are always encoded. */
export const segment = (value: string): string => encodeURIComponent(value);

interface RequestOptions {
  body?: unknown;
  /** Another token than the session's (the login form checks one before keeping it). */
  token?: string | null;
}

async function request<T>(method: string, path: `/api/${string}`, options: RequestOptions = {}): Promise<T> {
  const token = options.token === undefined ? session.token() : options.token;
  const body = options.body;
  const headers: Record<string, string> = { accept: "application/json" };
  if (token) headers["x-core-api-key"] = token;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      // Nothing rides on cookies: the token is the header, and the console sets none.
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "NETWORK", "The API cannot be reached");
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const fields = (parsed ?? {}) as { message?: unknown; code?: unknown };
    const error = new ApiError(
      response.status,
      typeof fields.code === "string" ? fields.code : `HTTP_${response.status}`,
      typeof fields.message === "string" ? fields.message : `${response.status} ${response.statusText}`,
    );
    // A refused token while signed in means it was changed on the server: sign out. A refused token
    // on the login form is only an answer.
    if (response.status === 401 && options.token === undefined) onUnauthorized(error);
    throw error;
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: `/api/${string}`) => request<T>("GET", path),
  post: <T>(path: `/api/${string}`, body?: unknown) => request<T>("POST", path, { body }),
  delete: <T>(path: `/api/${string}`) => request<T>("DELETE", path),
  /** Checks a token before the session keeps it (an admin route that reads and changes nothing). */
  check: (token: string) => request<unknown>("GET", "/api/admin/jobs/stats", { token }),
};

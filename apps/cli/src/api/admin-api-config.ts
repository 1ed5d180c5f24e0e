import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { type CliContext, CliError, UsageError } from "../command.js";

export const DEFAULT_API_URL = "http://localhost:3000";

export interface AdminApiConfig {
  /** The API's base URL without a trailing slash (it may carry a path prefix behind a proxy). */
  baseUrl: string;
  token: string;
  /** Where the token came from, named in the hint of a 401 (never the token itself). */
  tokenSource: string;
}

/** `KEY=value` lines, as `npm start` writes `.data/dev.env`. */
function readEnvFile(file: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1]) values[match[1]] = match[2] ?? "";
  }
  return values;
}

/**
 * The admin token, in this order: ECODRIX_ADMIN_TOKEN, CORE_API_TOKEN, then the development token that
 * `npm start` generated into `<ECODRIX_DATA_DIR or .data>/dev.env` — so `ecodrix clients …` works
 * locally with nothing set, and nothing on the command line (where `ps` and shell history would see it).
 */
export function resolveAdminToken(context: Pick<CliContext, "env" | "defaultDataDir">): {
  token: string;
  tokenSource: string;
} {
  const { env } = context;
  if (env.ECODRIX_ADMIN_TOKEN) return { token: env.ECODRIX_ADMIN_TOKEN, tokenSource: "ECODRIX_ADMIN_TOKEN" };
  if (env.CORE_API_TOKEN) return { token: env.CORE_API_TOKEN, tokenSource: "CORE_API_TOKEN" };
  // Resolved as scripts/start.ts resolves it, so both find the same file.
  const file = path.join(path.resolve(env.ECODRIX_DATA_DIR || context.defaultDataDir), "dev.env");
  const token = existsSync(file) ? readEnvFile(file).CORE_API_TOKEN : undefined;
  if (token) return { token, tokenSource: file };
  throw new CliError(
    `no admin token: set ECODRIX_ADMIN_TOKEN (or CORE_API_TOKEN) to the API's CORE_API_TOKEN; locally, \`npm start\` writes one to ${file}`,
  );
}

/** Checks `--url` before any request: a typo gets a usage error, not a confusing network error. */
export function parseApiUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url must be an http:// or https:// URL, such as ${DEFAULT_API_URL}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--url must be an http:// or https:// URL, such as ${DEFAULT_API_URL}`);
  }
  if (url.username || url.password) throw new UsageError("--url must not carry a user name or password");
  if (url.search || url.hash) throw new UsageError("--url must not carry a query string or a fragment");
  return url.href.replace(/\/+$/, "");
}

export function loadAdminApiConfig(
  context: Pick<CliContext, "env" | "defaultDataDir">,
  url: string,
): AdminApiConfig {
  const baseUrl = parseApiUrl(url);
  return { baseUrl, ...resolveAdminToken(context) };
}

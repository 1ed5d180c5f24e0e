import { badRequest } from "@ecodrix/platform";

/**
 * Normalises a browser origin: `http` or `https`, a host, an optional port, nothing else (no path,
 * query, fragment or credentials). Lowercases the host and drops a default port, so the stored
 * value equals what browsers send in the `Origin` header. Throws a 400 naming `field`.
 */
export function normalizeOrigin(input: string, field = "body/url"): string {
  const invalid = (why: string) =>
    badRequest(
      "ECODRIX_CORS_ORIGIN_INVALID",
      `${field} must be an origin like https://example.com[:port]: ${why}`,
    );
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw invalid("not a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw invalid("the scheme must be http or https");
  if (url.username || url.password) throw invalid("credentials are not allowed");
  if (url.search || url.hash || input.includes("?") || input.includes("#")) {
    throw invalid("a query or fragment is not allowed");
  }
  if (url.pathname !== "/" || /^[a-z]+:\/\/[^/]+\/./i.test(input.trim()))
    throw invalid("a path is not allowed");
  if (!url.hostname || url.hostname.includes("*")) throw invalid("a host is required (no wildcards)");
  return url.origin;
}

/** Like normalizeOrigin, but undefined instead of an error (for `Origin` headers from anyone). */
export function tryNormalizeOrigin(input: string | undefined): string | undefined {
  if (!input || input.length > 300) return undefined;
  try {
    return normalizeOrigin(input);
  } catch {
    return undefined;
  }
}

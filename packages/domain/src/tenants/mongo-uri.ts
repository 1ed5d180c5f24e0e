import { createHash } from "node:crypto";
import { AppError, badRequest } from "@ecodrix/platform";
import { MongoClient } from "mongodb";

export const MONGO_URI_PATTERN = "^mongodb(\\+srv)?://.+";

export interface ParsedMongoUri {
  /** The database named in the path, or undefined. */
  dbName: string | undefined;
  /**
   * Identifies the cluster and credentials, database aside: two URIs with the same key can share one
   * MongoClient. SHA-256, so the key itself never carries the password.
   */
  clusterKey: string;
  /** The URI without the database path, with authSource made explicit: what the shared client uses. */
  connectionUri: string;
}

function invalidUri(): AppError {
  // Never echo the URI: it carries a password.
  return badRequest(
    "ECODRIX_DATASOURCE_URI_INVALID",
    "body/dbUri is not a valid MongoDB connection string (mongodb://user:pass@host[:port][,host…]/database?options or mongodb+srv://…)",
  );
}

/**
 * Splits a MongoDB connection string into what identifies the cluster (scheme, credentials, hosts,
 * options) and the database. Hosts and options are sorted so equivalent spellings share a pool.
 * When credentials are given without `authSource`, the driver authenticates against the path's
 * database (or `admin`); that becomes an explicit option so sharing a client keeps the same login.
 */
export function parseMongoUri(uri: string): ParsedMongoUri {
  const match = /^(mongodb(?:\+srv)?):\/\/([^/?]+)(?:\/([^?]*))?(?:\?(.*))?$/.exec(uri.trim());
  if (!match) throw invalidUri();
  const [, scheme, authority = "", path = "", query = ""] = match;
  const at = authority.lastIndexOf("@");
  const userinfo = at >= 0 ? authority.slice(0, at) : "";
  const hostList = at >= 0 ? authority.slice(at + 1) : authority;
  const hosts = hostList
    .split(",")
    .map((host) => host.trim().toLowerCase())
    .filter(Boolean);
  if (
    hosts.length === 0 ||
    hosts.some((host) => !/^[a-z0-9._-]+(:\d{1,5})?$|^\[[0-9a-f:]+\](:\d{1,5})?$/.test(host))
  ) {
    throw invalidUri();
  }
  let dbName: string | undefined;
  try {
    dbName = path ? decodeURIComponent(path) : undefined;
  } catch {
    throw invalidUri();
  }
  if (dbName !== undefined && !/^[^/\\. "$*<>:|?]{1,63}$/.test(dbName)) throw invalidUri();
  const options = new URLSearchParams(query);
  if (userinfo && !options.has("authSource")) options.set("authSource", dbName ?? "admin");
  options.sort();
  const optionText = options.toString();
  const sortedHosts = [...hosts].sort().join(",");
  const connectionUri = `${scheme}://${userinfo ? `${userinfo}@` : ""}${hosts.join(",")}/${optionText ? `?${optionText}` : ""}`;
  const clusterKey = createHash("sha256")
    .update(`${scheme}\n${userinfo}\n${sortedHosts}\n${optionText}`)
    .digest("hex");
  return { dbName, clusterKey, connectionUri };
}

/**
 * Proves a tenant URI works before it is stored: connect and ping within `timeoutMs`. Throws a 4xx
 * AppError that never contains the URI.
 */
export async function verifyMongoUri(uri: string, timeoutMs: number): Promise<void> {
  const parsed = parseMongoUri(uri);
  let client: MongoClient;
  try {
    client = new MongoClient(parsed.connectionUri, {
      serverSelectionTimeoutMS: timeoutMs,
      connectTimeoutMS: timeoutMs,
      socketTimeoutMS: timeoutMs,
      maxPoolSize: 1,
    });
  } catch {
    throw invalidUri();
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), timeoutMs + 500);
    });
    await Promise.race([client.db(parsed.dbName ?? "admin").command({ ping: 1 }), timeout]);
  } catch (error) {
    const name = error instanceof Error ? error.name : "";
    if (name === "MongoParseError" || name === "MongoInvalidArgumentError") throw invalidUri();
    const authFailed =
      typeof error === "object" && error !== null && (error as { code?: unknown }).code === 18;
    throw new AppError(
      "ECODRIX_DATASOURCE_UNREACHABLE",
      authFailed
        ? "body/dbUri: the database refused the credentials (authentication failed)"
        : `body/dbUri: cannot connect to the database and ping it within ${timeoutMs} ms (check the host, the network access list and the credentials)`,
      422,
      { retryable: false },
    );
  } finally {
    clearTimeout(timer);
    await client.close().catch(() => {});
  }
}

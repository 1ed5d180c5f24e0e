import { type AppError, badRequest, conflict } from "@ecodrix/platform";

/**
 * What a tenant's connection string may ask of our processes. The URI is supplied over the admin API and
 * then used by every API and worker process, so an option that reads local files (tlsCAFile,
 * tlsCertificateKeyFile, tlsCRLFile), routes through another host (proxyHost…), turns off certificate
 * checks (tlsInsecure, tlsAllowInvalid…), or authenticates with the server's own identity
 * (authMechanism=MONGODB-AWS, MONGODB-OIDC, GSSAPI, MONGODB-X509) is refused. Everything a hosted MongoDB
 * (Atlas) or a replica set needs is here. Option names are case-insensitive, as in the driver.
 */
export const DATASOURCE_URI_OPTIONS = [
  "appName",
  "authMechanism",
  "authSource",
  "compressors",
  "connectTimeoutMS",
  "directConnection",
  "heartbeatFrequencyMS",
  "journal",
  "loadBalanced",
  "localThresholdMS",
  "maxConnecting",
  "maxIdleTimeMS",
  "maxPoolSize",
  "maxStalenessSeconds",
  "minPoolSize",
  "readConcernLevel",
  "readPreference",
  "readPreferenceTags",
  "replicaSet",
  "retryReads",
  "retryWrites",
  "serverSelectionTimeoutMS",
  "socketTimeoutMS",
  "srvMaxHosts",
  "ssl",
  "tls",
  "w",
  "waitQueueTimeoutMS",
  "wtimeoutMS",
  "zlibCompressionLevel",
] as const;

/** Password-based mechanisms only: the others use credentials of the machine the process runs on. */
export const DATASOURCE_AUTH_MECHANISMS = ["SCRAM-SHA-1", "SCRAM-SHA-256"] as const;

const KNOWN_MECHANISMS = new Set([
  "DEFAULT",
  "GSSAPI",
  "MONGODB-AWS",
  "MONGODB-CR",
  "MONGODB-OIDC",
  "MONGODB-X509",
  "PLAIN",
  ...DATASOURCE_AUTH_MECHANISMS,
]);

const allowedByLowerName = new Map(DATASOURCE_URI_OPTIONS.map((name) => [name.toLowerCase(), name]));

/** Databases a tenant may never use, whatever the cluster; the central database is added by the caller. */
export const RESERVED_DATABASE_NAMES = ["admin", "local", "config"] as const;

function optionRefused(what: string): AppError {
  return badRequest(
    "ECODRIX_DATASOURCE_URI_OPTION_REFUSED",
    `body/dbUri ${what} is not allowed: a tenant connection string may use only ${DATASOURCE_URI_OPTIONS.join(", ")} (authMechanism ${DATASOURCE_AUTH_MECHANISMS.join(" or ")})`,
  );
}

/**
 * Throws a 400 for a connection-string option outside DATASOURCE_URI_OPTIONS. Names an option only when it
 * looks like one (a value is never echoed: the URI carries a password).
 */
export function assertSafeUriOptions(uri: string): void {
  const query = uri.includes("?") ? uri.slice(uri.indexOf("?") + 1) : "";
  for (const [name, value] of new URLSearchParams(query)) {
    const canonical = allowedByLowerName.get(name.toLowerCase());
    if (!canonical) {
      throw optionRefused(/^[A-Za-z0-9_.]{1,40}$/.test(name) ? `option "${name}"` : "an option");
    }
    if (canonical === "authMechanism") {
      const mechanism = value.toUpperCase();
      if (!(DATASOURCE_AUTH_MECHANISMS as readonly string[]).includes(mechanism)) {
        throw optionRefused(
          KNOWN_MECHANISMS.has(mechanism) ? `option authMechanism=${mechanism}` : "this authMechanism",
        );
      }
    }
  }
}

/**
 * Refuses, with a 400, a database that is not a tenant's to use: admin, local, config, or the central
 * database (`centralDbName`, SERVICES_DB_NAME). Compared without case, as MongoDB refuses two databases
 * whose names differ only in case.
 */
export function assertTenantDatabaseName(dbName: string, centralDbName: string): void {
  const lower = dbName.toLowerCase();
  const reserved = [...RESERVED_DATABASE_NAMES, centralDbName.toLowerCase()];
  if (reserved.includes(lower)) {
    throw badRequest(
      "ECODRIX_DATASOURCE_DATABASE_RESERVED",
      `body/dbUri names the database "${dbName}", which cannot be a tenant database (admin, local, config and the central database ${centralDbName} are reserved)`,
    );
  }
}

/** Never names the other client, nor anything from either URI but the database name the caller sent. */
export function databaseInUse(dbName: string): AppError {
  return conflict(
    "ECODRIX_DATASOURCE_IN_USE",
    `body/dbUri: the database "${dbName}" on this cluster is already registered for another client; give each client a database of its own`,
  );
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/**
 * The hosts of a connection string as `host:port`, lowercased, the default port made explicit and the
 * usual spellings of the loopback address merged, so two spellings of one server compare equal. An SRV
 * URI's host is the SRV name (its members are only known from DNS).
 */
export function uriHosts(uri: string): string[] {
  const match = /^(mongodb(?:\+srv)?):\/\/([^/?]+)/.exec(uri.trim());
  if (!match) return [];
  const [, scheme, authority = ""] = match;
  const hostList = authority.slice(authority.lastIndexOf("@") + 1);
  return hostList
    .split(",")
    .map((host) => host.trim().toLowerCase())
    .filter(Boolean)
    .map((host) => {
      const port = /:(\d+)$/.exec(host)?.[1];
      let name = port ? host.slice(0, -(port.length + 1)) : host;
      if (LOOPBACK.has(name)) name = "loopback";
      return scheme === "mongodb+srv" ? `srv:${name}` : `${name}:${port ?? "27017"}`;
    });
}

/** True when two connection strings share a host: the same cluster (or one member of it). */
export function sameCluster(a: string, b: string): boolean {
  const hostsOfA = new Set(uriHosts(a));
  return uriHosts(b).some((host) => hostsOfA.has(host));
}

import { isIP } from "node:net";
import { Ajv, type ErrorObject } from "ajv";
import { Cron } from "croner";
import { MongoClient } from "mongodb";

export type NodeEnv = "development" | "production" | "test";

export interface Config {
  nodeEnv: NodeEnv;
  port: number;
  host: string;
  /**
   * How long the API keeps an idle keep-alive connection open. Longer than the load balancer's idle
   * timeout (60 s on AWS ALB and nginx' default upstream keepalive_timeout is 60 s), so the balancer
   * closes idle connections first and never sends a request on one the API is closing.
   */
  keepAliveTimeoutMs: number;
  /**
   * Which proxies in front of the API to believe about the client's address (X-Forwarded-For): false
   * (none: the socket's peer is the client), a number of hops, or proxy addresses / CIDRs / the names
   * loopback, linklocal, uniquelocal. Fastify's `trustProxy`.
   */
  trustProxy: false | number | string[];
  /** Port of the API's Prometheus `/metrics` (a listener of its own); 0 = not served. */
  metricsPort: number;
  mongodbUri: string;
  servicesDbName: string;
  coreApiToken: string;
  /** The current key (encrypts and decrypts) then previous keys (decrypt only), each 32 bytes. */
  encryptionKeys: Buffer[];
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  worker: {
    concurrency: number;
    pollMinMs: number;
    pollMaxMs: number;
    leaseMs: number;
    shutdownTimeoutMs: number;
    jobTimeoutMs: number;
    /** Jobs claimed ahead of free slots while a backlog waits (default 2 × concurrency; 0 = off). */
    prefetch: number;
    /** Port of the worker's Prometheus `/metrics`; 0 = off. */
    metricsPort: number;
    /** What wakes idle workers when a job arrives (see the queue's job-wake.ts); polling always stays. */
    wakeMode: "auto" | "change-stream" | "nudge" | "off";
    /** Address a worker listens on for producers' nudges, and advertises to them. */
    wakeHost: string;
    /** Jobs of one tenant running at once per worker; 0 = no cap (fairness still applies). */
    tenantConcurrency: number;
    /** Per job type cap per worker, e.g. `{ send_whatsapp: 4 }`. */
    typeConcurrency: Record<string, number>;
    /** Per (job type, tenant) start-rate limit per worker, e.g. `{ send_whatsapp: { max: 20, perMs: 1000 } }`. */
    rateLimits: Record<string, { max: number; perMs: number }>;
    /** IANA timezone of the cron schedules. */
    cronTimezone: string;
    /** Missed cron ticks up to this long ago are enqueued when a worker notices (start, late fire). */
    cronCatchUpMs: number;
    /** croner pattern of the nightly score_recalculation. */
    scoreRecalculationCron: string;
  };
  jobRetentionDays: number;
  /** The API's public base URL (links the API hands out, the OAuth redirect). */
  publicUrl: string;
  google: GoogleConfig;
  whatsapp: WhatsappConfig;
  /** Webhook URLs and SMTP hosts may be on loopback/private addresses (tests, sandbox). */
  outboundAllowPrivateNetworks: boolean;
  /** Sandbox mode: local fakes stand in for every provider; `GET /api/sandbox/outbox` shows what they captured. */
  sandbox: boolean;
  /** Where `npm start` serves the fakes' captures in sandbox mode (set by the start command). */
  sandboxOutboxUrl: string | undefined;
  /**
   * Sandbox mode only: every client's e-mail goes to this SMTP server (plain SMTP) instead of its
   * smtpHost/smtpPort, so the runbook's secrets work unchanged and nothing leaves the machine.
   */
  sandboxSmtp: { host: string; port: number } | undefined;
}

/** Google OAuth and Calendar. Every endpoint the product calls is here, so tests and the sandbox never reach Google. */
export interface GoogleConfig {
  /** Both set, or both undefined (then the Google routes answer 503). */
  clientId: string | undefined;
  clientSecret: string | undefined;
  redirectUri: string;
  authUrl: string;
  tokenUrl: string;
  revokeUrl: string;
  userinfoUrl: string;
  /** Calendar API root. */
  apiBaseUrl: string;
}

/** WhatsApp Cloud API (Graph API). The root is a setting so tests and the sandbox never reach Meta. */
export interface WhatsappConfig {
  /** Graph API root, without a trailing slash; requests go to `{graphBaseUrl}/{graphVersion}/…`. */
  graphBaseUrl: string;
  graphVersion: string;
  /** Cluster-wide sends per second per phone number id (all worker replicas together). */
  messagesPerSecond: number;
  /** croner pattern of the template resync of every client with WhatsApp secrets. */
  templateSyncCron: string;
}

const httpUrlPattern = "^https?://[^\\s]+$";

/** Each variable with the sentence printed when it is missing or malformed. */
const schema = {
  type: "object",
  properties: {
    NODE_ENV: {
      enum: ["development", "production", "test"],
      default: "development",
      description: "one of development, production, test",
    },
    PORT: {
      type: "integer",
      minimum: 0,
      maximum: 65535,
      default: 3000,
      description: "a port number from 0 to 65535",
    },
    HOST: {
      type: "string",
      minLength: 1,
      default: "0.0.0.0",
      description: "an interface address such as 0.0.0.0 or 127.0.0.1",
    },
    KEEP_ALIVE_TIMEOUT_MS: {
      type: "integer",
      minimum: 1000,
      maximum: 600000,
      default: 65000,
      description: "milliseconds from 1000 to 600000 (longer than the load balancer's idle timeout)",
    },
    TRUST_PROXY: {
      type: "string",
      default: "",
      description:
        "the number of proxy hops in front of the API (1 to 20), or comma-separated proxy addresses or CIDRs (e.g. 10.0.0.0/8,loopback), or empty for none",
    },
    METRICS_PORT: {
      type: "integer",
      minimum: 0,
      maximum: 65535,
      default: 0,
      description: "a port for the API's /metrics from 1 to 65535, or 0 for none",
    },
    MONGODB_URI: {
      type: "string",
      pattern: "^mongodb(\\+srv)?://.+",
      description: "a MongoDB connection string starting with mongodb:// or mongodb+srv://",
    },
    SERVICES_DB_NAME: {
      type: "string",
      pattern: "^[A-Za-z0-9_-]{1,63}$",
      default: "services",
      description: "a database name (letters, digits, _ or -)",
    },
    CORE_API_TOKEN: {
      type: "string",
      minLength: 16,
      description: "the admin token: at least 16 characters (32+ random characters in production)",
    },
    ENCRYPTION_KEY: { type: "string", description: "32 bytes as 64 hex characters or base64" },
    ENCRYPTION_KEYS_PREVIOUS: {
      type: "string",
      default: "",
      description: "comma-separated earlier ENCRYPTION_KEY values (32 bytes each, hex or base64)",
    },
    LOG_LEVEL: {
      enum: ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
      default: "info",
      description: "one of fatal, error, warn, info, debug, trace, silent",
    },
    WORKER_CONCURRENCY: {
      type: "integer",
      minimum: 1,
      maximum: 1000,
      default: 10,
      description: "an integer from 1 to 1000",
    },
    WORKER_POLL_MIN_MS: {
      type: "integer",
      minimum: 1,
      maximum: 60000,
      default: 50,
      description: "milliseconds from 1 to 60000",
    },
    WORKER_POLL_MAX_MS: {
      type: "integer",
      minimum: 10,
      maximum: 600000,
      default: 1000,
      description: "milliseconds from 10 to 600000",
    },
    WORKER_LEASE_MS: {
      type: "integer",
      minimum: 1000,
      maximum: 3600000,
      default: 30000,
      description: "milliseconds from 1000 to 3600000",
    },
    WORKER_SHUTDOWN_TIMEOUT_MS: {
      type: "integer",
      minimum: 0,
      maximum: 600000,
      default: 25000,
      description: "milliseconds from 0 to 600000",
    },
    WORKER_JOB_TIMEOUT_MS: {
      type: "integer",
      minimum: 100,
      maximum: 3600000,
      default: 120000,
      description: "milliseconds from 100 to 3600000",
    },
    WORKER_PREFETCH: {
      type: "integer",
      minimum: 0,
      maximum: 10000,
      description: "jobs claimed ahead of free slots, from 0 to 10000 (default twice WORKER_CONCURRENCY)",
    },
    WORKER_METRICS_PORT: {
      type: "integer",
      minimum: 0,
      maximum: 65535,
      default: 0,
      description: "a port for the worker's /metrics from 1 to 65535, or 0 for none",
    },
    WORKER_WAKE: {
      enum: ["auto", "change-stream", "nudge", "off"],
      default: "auto",
      description: "one of auto, change-stream, nudge, off",
    },
    WORKER_WAKE_HOST: {
      type: "string",
      pattern: "^[A-Za-z0-9.:-]+$",
      default: "127.0.0.1",
      description: "an IP address or host name of this worker that producers can reach (default 127.0.0.1)",
    },
    WORKER_TENANT_CONCURRENCY: {
      type: "integer",
      minimum: 0,
      maximum: 1000,
      default: 0,
      description: "jobs of one tenant running at once per worker, 0 for no cap",
    },
    WORKER_TYPE_CONCURRENCY: {
      type: "string",
      pattern: "^([A-Za-z0-9_.:-]+=[0-9]+(,[A-Za-z0-9_.:-]+=[0-9]+)*)?$",
      default: "",
      description: "comma-separated type=N caps, e.g. send_whatsapp=4,send_email=8",
    },
    WORKER_RATE_LIMITS: {
      type: "string",
      pattern: "^([A-Za-z0-9_.:-]+=[0-9]+/[0-9]+(,[A-Za-z0-9_.:-]+=[0-9]+/[0-9]+)*)?$",
      default: "",
      description: "comma-separated type=MAX/MS per-tenant start limits, e.g. send_whatsapp=20/1000",
    },
    CRON_CATCH_UP_MINUTES: {
      type: "integer",
      minimum: 0,
      maximum: 10080,
      default: 180,
      description: "minutes from 0 to 10080 (a week): how far back a missed cron tick is still run",
    },
    CRON_TIMEZONE: {
      type: "string",
      minLength: 1,
      default: "UTC",
      description: "an IANA timezone such as UTC or Asia/Kolkata",
    },
    SCORE_RECALCULATION_CRON: {
      type: "string",
      minLength: 9,
      default: "0 2 * * *",
      description: "a cron pattern such as 0 2 * * *",
    },
    PUBLIC_URL: {
      type: "string",
      pattern: httpUrlPattern,
      description: "the API's public base URL, e.g. https://api.example.com",
    },
    GOOGLE_CLIENT_ID: {
      type: "string",
      minLength: 1,
      description: "the OAuth client id of a Google Cloud project",
    },
    GOOGLE_CLIENT_SECRET: {
      type: "string",
      minLength: 1,
      description: "the OAuth client secret of a Google Cloud project",
    },
    GOOGLE_REDIRECT_URI: {
      type: "string",
      pattern: httpUrlPattern,
      description: "an http(s) URL ending in /api/auth/google/callback",
    },
    GOOGLE_AUTH_URL: {
      type: "string",
      pattern: httpUrlPattern,
      default: "https://accounts.google.com/o/oauth2/v2/auth",
      description: "an http(s) URL (Google's OAuth consent page)",
    },
    GOOGLE_TOKEN_URL: {
      type: "string",
      pattern: httpUrlPattern,
      default: "https://oauth2.googleapis.com/token",
      description: "an http(s) URL (Google's OAuth token endpoint)",
    },
    GOOGLE_REVOKE_URL: {
      type: "string",
      pattern: httpUrlPattern,
      default: "https://oauth2.googleapis.com/revoke",
      description: "an http(s) URL (Google's OAuth revocation endpoint)",
    },
    GOOGLE_USERINFO_URL: {
      type: "string",
      pattern: httpUrlPattern,
      default: "https://openidconnect.googleapis.com/v1/userinfo",
      description: "an http(s) URL (Google's OpenID userinfo endpoint)",
    },
    GOOGLE_API_BASE_URL: {
      type: "string",
      pattern: httpUrlPattern,
      default: "https://www.googleapis.com/",
      description: "an http(s) URL (the Google APIs root the Calendar API lives under)",
    },
    WHATSAPP_GRAPH_BASE_URL: {
      type: "string",
      pattern: httpUrlPattern,
      default: "https://graph.facebook.com",
      description: "an http(s) URL (the Graph API root)",
    },
    WHATSAPP_GRAPH_VERSION: {
      type: "string",
      pattern: "^v[0-9]{1,3}\\.[0-9]{1,3}$",
      default: "v23.0",
      description: "a Graph API version such as v23.0",
    },
    WHATSAPP_MESSAGES_PER_SECOND: {
      type: "integer",
      minimum: 1,
      maximum: 10000,
      default: 80,
      description: "messages per second per phone number, an integer from 1 to 10000",
    },
    TEMPLATE_SYNC_CRON: {
      type: "string",
      minLength: 9,
      default: "0 */6 * * *",
      description: "a cron pattern such as 0 */6 * * *",
    },
    OUTBOUND_ALLOW_PRIVATE_NETWORKS: {
      type: "boolean",
      default: false,
      description: "true or false",
    },
    ECODRIX_SANDBOX: {
      type: "boolean",
      default: false,
      description: "true or false",
    },
    SANDBOX_OUTBOX_URL: {
      type: "string",
      pattern: httpUrlPattern,
      description: "an http(s) URL (set by npm start in sandbox mode)",
    },
    SANDBOX_SMTP_URL: {
      type: "string",
      pattern: "^smtp://[^\\s/:]+:[0-9]{1,5}/?$",
      description: "smtp://<host>:<port>, only with ECODRIX_SANDBOX=true (set by npm start in sandbox mode)",
    },
    JOB_RETENTION_DAYS: {
      type: "number",
      minimum: 0,
      maximum: 3650,
      default: 7,
      description: "days from 0 to 3650 (0 keeps finished jobs forever)",
    },
  },
  required: ["MONGODB_URI", "CORE_API_TOKEN", "ENCRYPTION_KEY"],
} as const;

type SchemaKey = keyof typeof schema.properties;

/** Settings holding a URL: beyond the schema's pattern, the WHATWG URL parser must accept them. */
const urlSettings = (Object.keys(schema.properties) as SchemaKey[]).filter(
  (name) => (schema.properties[name] as { pattern?: string }).pattern === httpUrlPattern,
);

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: false });
const validate = ajv.compile(schema);

function describe(name: string): string {
  const property = schema.properties[name as SchemaKey] as { description?: string } | undefined;
  return property?.description ?? "a valid value";
}

const missing = (name: string) => `${name} is missing: expected ${describe(name)}`;
const malformed = (name: string) => `${name} is malformed: expected ${describe(name)}`;

function firstProblem(error: ErrorObject): string {
  if (error.keyword === "required") return missing(String(error.params.missingProperty));
  return malformed(error.instancePath.replace(/^\//, ""));
}

/**
 * Values the schema's pattern cannot judge are handed to the code that will use them (the driver's URI
 * parser, Intl, croner) at start-up; a refusal becomes the usual one-line error. The value itself is
 * never echoed: a connection string carries a password.
 */
function checkParses(name: string, parse: () => unknown): void {
  try {
    parse();
  } catch {
    throw new ConfigError(malformed(name));
  }
}

/** The names proxy-addr (Fastify's trustProxy) knows for address ranges. */
const PROXY_RANGE_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);

/**
 * TRUST_PROXY: empty (trust no proxy), a hop count, or proxy addresses / CIDRs. "true" (trust every
 * hop) is refused on purpose: any caller could then pick its own address by sending X-Forwarded-For.
 */
export function parseTrustProxy(text: string): Config["trustProxy"] | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return false;
  if (/^\d+$/.test(trimmed)) {
    const hops = Number(trimmed);
    return hops >= 1 && hops <= 20 ? hops : undefined;
  }
  const entries = trimmed.split(",").map((part) => part.trim());
  for (const entry of entries) {
    if (PROXY_RANGE_NAMES.has(entry)) continue;
    const [address = "", prefix, extra] = entry.split("/");
    const family = isIP(address);
    if (family === 0 || extra !== undefined) return undefined;
    if (prefix !== undefined) {
      const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : -1;
      if (bits < 1 || bits > (family === 4 ? 32 : 128)) return undefined;
    }
  }
  return entries;
}

/** Decodes a 32-byte key given as 64 hex characters or as base64; undefined when it is neither. */
export function decodeKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, "hex");
  if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(trimmed)) {
    const bytes = Buffer.from(trimmed, "base64");
    if (bytes.length === 32) return bytes;
  }
  return undefined;
}

/**
 * Validates the environment once. Throws a ConfigError whose message is one line naming the variable
 * and what is expected; nothing else in the product reads `process.env`.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, unknown> = {};
  for (const name of Object.keys(schema.properties)) {
    const value = env[name];
    if (value !== undefined && value !== "") input[name] = value;
  }
  if (!validate(input)) {
    const error = validate.errors?.[0];
    throw new ConfigError(error ? firstProblem(error) : "configuration is invalid");
  }
  const values = input as Record<SchemaKey, never> & Record<string, unknown>;
  checkParses("MONGODB_URI", () => new MongoClient(String(values.MONGODB_URI)));
  checkParses(
    "CRON_TIMEZONE",
    () => new Intl.DateTimeFormat("en", { timeZone: String(values.CRON_TIMEZONE) }),
  );
  checkParses("SCORE_RECALCULATION_CRON", () =>
    new Cron(String(values.SCORE_RECALCULATION_CRON), { paused: true }).stop(),
  );
  checkParses("TEMPLATE_SYNC_CRON", () =>
    new Cron(String(values.TEMPLATE_SYNC_CRON), { paused: true }).stop(),
  );
  const trustProxy = parseTrustProxy(String(values.TRUST_PROXY));
  if (trustProxy === undefined) throw new ConfigError(malformed("TRUST_PROXY"));
  const current = decodeKey(String(values.ENCRYPTION_KEY));
  if (!current) throw new ConfigError(malformed("ENCRYPTION_KEY"));
  const previous = String(values.ENCRYPTION_KEYS_PREVIOUS)
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part, index) => {
      const key = decodeKey(part);
      if (!key)
        throw new ConfigError(
          `ENCRYPTION_KEYS_PREVIOUS entry ${index + 1} is malformed: expected 32 bytes as 64 hex characters or base64`,
        );
      return key;
    });
  for (const name of urlSettings) {
    if (values[name] !== undefined) checkParses(name, () => new URL(String(values[name])));
  }
  const nodeEnv = values.NODE_ENV as NodeEnv;
  const coreApiToken = String(values.CORE_API_TOKEN);
  if (nodeEnv === "production" && coreApiToken.length < 32) {
    throw new ConfigError(
      "CORE_API_TOKEN is too short for production: expected at least 32 random characters",
    );
  }
  const googleClientId = values.GOOGLE_CLIENT_ID as string | undefined;
  const googleClientSecret = values.GOOGLE_CLIENT_SECRET as string | undefined;
  if (googleClientId !== undefined && googleClientSecret === undefined) {
    throw new ConfigError(`${missing("GOOGLE_CLIENT_SECRET")} (GOOGLE_CLIENT_ID is set)`);
  }
  if (googleClientSecret !== undefined && googleClientId === undefined) {
    throw new ConfigError(`${missing("GOOGLE_CLIENT_ID")} (GOOGLE_CLIENT_SECRET is set)`);
  }
  const sandbox = values.ECODRIX_SANDBOX === true;
  if (sandbox && nodeEnv === "production") {
    throw new ConfigError(
      "ECODRIX_SANDBOX is malformed: expected false in production (the sandbox replaces every provider with a local fake)",
    );
  }
  const sandboxSmtpUrl = values.SANDBOX_SMTP_URL as string | undefined;
  if (sandboxSmtpUrl !== undefined && !sandbox) throw new ConfigError(malformed("SANDBOX_SMTP_URL"));
  if (sandboxSmtpUrl !== undefined) checkParses("SANDBOX_SMTP_URL", () => new URL(sandboxSmtpUrl));
  const sandboxSmtp = sandboxSmtpUrl === undefined ? undefined : new URL(sandboxSmtpUrl);
  if (sandboxSmtp && (Number(sandboxSmtp.port) < 1 || Number(sandboxSmtp.port) > 65535)) {
    throw new ConfigError(malformed("SANDBOX_SMTP_URL"));
  }
  const port = Number(values.PORT);
  const publicUrl = String(values.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, "");
  const pollMinMs = Number(values.WORKER_POLL_MIN_MS);
  const pollMaxMs = Number(values.WORKER_POLL_MAX_MS);
  if (pollMaxMs < pollMinMs) {
    throw new ConfigError("WORKER_POLL_MAX_MS is malformed: expected a value at least WORKER_POLL_MIN_MS");
  }
  return {
    nodeEnv,
    port,
    host: String(values.HOST),
    keepAliveTimeoutMs: Number(values.KEEP_ALIVE_TIMEOUT_MS),
    trustProxy,
    metricsPort: Number(values.METRICS_PORT),
    mongodbUri: String(values.MONGODB_URI),
    servicesDbName: String(values.SERVICES_DB_NAME),
    coreApiToken,
    encryptionKeys: [current, ...previous],
    logLevel: values.LOG_LEVEL as Config["logLevel"],
    worker: {
      concurrency: Number(values.WORKER_CONCURRENCY),
      pollMinMs,
      pollMaxMs,
      leaseMs: Number(values.WORKER_LEASE_MS),
      shutdownTimeoutMs: Number(values.WORKER_SHUTDOWN_TIMEOUT_MS),
      jobTimeoutMs: Number(values.WORKER_JOB_TIMEOUT_MS),
      prefetch:
        values.WORKER_PREFETCH === undefined
          ? 2 * Number(values.WORKER_CONCURRENCY)
          : Number(values.WORKER_PREFETCH),
      metricsPort: Number(values.WORKER_METRICS_PORT),
      wakeMode: values.WORKER_WAKE as Config["worker"]["wakeMode"],
      wakeHost: String(values.WORKER_WAKE_HOST),
      tenantConcurrency: Number(values.WORKER_TENANT_CONCURRENCY),
      typeConcurrency: Object.fromEntries(
        pairs(String(values.WORKER_TYPE_CONCURRENCY)).map(([type, n]) => [type, Number(n)]),
      ),
      rateLimits: Object.fromEntries(
        pairs(String(values.WORKER_RATE_LIMITS)).map(([type, limit]) => {
          const [max, perMs] = limit.split("/").map(Number);
          return [type, { max: max ?? 0, perMs: perMs ?? 1000 }];
        }),
      ),
      cronTimezone: String(values.CRON_TIMEZONE),
      cronCatchUpMs: Number(values.CRON_CATCH_UP_MINUTES) * 60_000,
      scoreRecalculationCron: String(values.SCORE_RECALCULATION_CRON),
    },
    jobRetentionDays: Number(values.JOB_RETENTION_DAYS),
    publicUrl,
    google: {
      clientId: googleClientId,
      clientSecret: googleClientSecret,
      redirectUri: String(values.GOOGLE_REDIRECT_URI ?? `${publicUrl}/api/auth/google/callback`),
      authUrl: String(values.GOOGLE_AUTH_URL),
      tokenUrl: String(values.GOOGLE_TOKEN_URL),
      revokeUrl: String(values.GOOGLE_REVOKE_URL),
      userinfoUrl: String(values.GOOGLE_USERINFO_URL),
      apiBaseUrl: String(values.GOOGLE_API_BASE_URL),
    },
    whatsapp: {
      graphBaseUrl: String(values.WHATSAPP_GRAPH_BASE_URL).replace(/\/+$/, ""),
      graphVersion: String(values.WHATSAPP_GRAPH_VERSION),
      messagesPerSecond: Number(values.WHATSAPP_MESSAGES_PER_SECOND),
      templateSyncCron: String(values.TEMPLATE_SYNC_CRON),
    },
    outboundAllowPrivateNetworks: values.OUTBOUND_ALLOW_PRIVATE_NETWORKS === true,
    sandbox,
    sandboxOutboxUrl: values.SANDBOX_OUTBOX_URL as string | undefined,
    sandboxSmtp: sandboxSmtp ? { host: sandboxSmtp.hostname, port: Number(sandboxSmtp.port) } : undefined,
  };
}

/** `a=1,b=2` → [["a","1"],["b","2"]] (the schema's pattern has checked the shape). */
function pairs(text: string): [string, string][] {
  return text
    .split(",")
    .filter(Boolean)
    .map((part) => {
      const [name = "", value = ""] = part.split("=");
      return [name, value];
    });
}

/**
 * Only what a tool that talks to the central database needs (the jobs CLI): MONGODB_URI and
 * SERVICES_DB_NAME, validated like loadConfig does, without the API's secrets.
 */
export function loadMongoConfig(
  env: NodeJS.ProcessEnv = process.env,
): Pick<Config, "mongodbUri" | "servicesDbName"> {
  const uri = env.MONGODB_URI;
  if (!uri) throw new ConfigError(missing("MONGODB_URI"));
  if (!new RegExp(schema.properties.MONGODB_URI.pattern).test(uri)) {
    throw new ConfigError(malformed("MONGODB_URI"));
  }
  const dbName = env.SERVICES_DB_NAME || schema.properties.SERVICES_DB_NAME.default;
  if (!new RegExp(schema.properties.SERVICES_DB_NAME.pattern).test(dbName)) {
    throw new ConfigError(malformed("SERVICES_DB_NAME"));
  }
  return { mongodbUri: uri, servicesDbName: dbName };
}

/** For `main.ts`: load the config or print the one-line reason and exit 1. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

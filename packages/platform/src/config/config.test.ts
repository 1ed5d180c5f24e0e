import { describe, expect, it } from "vitest";
import { ConfigError, decodeKey, loadConfig } from "./config.js";

const valid = {
  MONGODB_URI: "mongodb://127.0.0.1:27017",
  CORE_API_TOKEN: "a".repeat(32),
  ENCRYPTION_KEY: "11".repeat(32),
};

function problem(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected loadConfig to throw");
}

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    const config = loadConfig(valid);
    expect(config.port).toBe(3000);
    expect(config.servicesDbName).toBe("services");
    expect(config.logLevel).toBe("info");
    expect(config.worker.concurrency).toBe(10);
    expect(config.encryptionKeys).toHaveLength(1);
    expect(config.encryptionKeys[0]?.equals(Buffer.alloc(32, 0x11))).toBe(true);
    expect(config.trustProxy).toBe(false);
    expect(config.metricsPort).toBe(0);
  });

  it("TRUST_PROXY: a hop count or proxy addresses and CIDRs; never every hop", () => {
    expect(loadConfig({ ...valid, TRUST_PROXY: "1" }).trustProxy).toBe(1);
    expect(
      loadConfig({ ...valid, TRUST_PROXY: " 10.0.0.0/8, 192.168.1.7 ,loopback,fd00::/8" }).trustProxy,
    ).toEqual(["10.0.0.0/8", "192.168.1.7", "loopback", "fd00::/8"]);
    for (const bad of [
      "true",
      "*",
      "0",
      "21",
      "0.0.0.0/0",
      "10.0.0.0/33",
      "10.0.0/8",
      "proxy.internal",
      "1.2.3.4/8/8",
    ]) {
      expect(problem({ ...valid, TRUST_PROXY: bad }), bad).toBe(
        "TRUST_PROXY is malformed: expected the number of proxy hops in front of the API (1 to 20), or comma-separated proxy addresses or CIDRs (e.g. 10.0.0.0/8,loopback), or empty for none",
      );
    }
  });

  it("coerces numbers from the environment", () => {
    const config = loadConfig({ ...valid, PORT: "8080", WORKER_CONCURRENCY: "4" });
    expect(config.port).toBe(8080);
    expect(config.worker.concurrency).toBe(4);
  });

  it.each([
    [{ MONGODB_URI: undefined }, "MONGODB_URI is missing: expected a MongoDB connection string"],
    [{ MONGODB_URI: "postgres://x" }, "MONGODB_URI is malformed: expected a MongoDB connection string"],
    [{ CORE_API_TOKEN: undefined }, "CORE_API_TOKEN is missing"],
    [
      { ENCRYPTION_KEY: "short" },
      "ENCRYPTION_KEY is malformed: expected 32 bytes as 64 hex characters or base64",
    ],
    [{ PORT: "eighty" }, "PORT is malformed: expected a port number from 0 to 65535"],
    [{ METRICS_PORT: "70000" }, "METRICS_PORT is malformed: expected a port for the API's /metrics"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL is malformed: expected one of fatal, error"],
    [{ ENCRYPTION_KEYS_PREVIOUS: "zz" }, "ENCRYPTION_KEYS_PREVIOUS entry 1 is malformed"],
    [{ WORKER_POLL_MIN_MS: "500", WORKER_POLL_MAX_MS: "100" }, "WORKER_POLL_MAX_MS is malformed"],
    [
      { MONGODB_URI: "mongodb://u:pw@/x?bad=1" },
      "MONGODB_URI is malformed: expected a MongoDB connection string",
    ],
    [{ CRON_TIMEZONE: "Mars/Olympus" }, "CRON_TIMEZONE is malformed: expected an IANA timezone"],
    [
      { SCORE_RECALCULATION_CRON: "foo_bar_baz_qux" },
      "SCORE_RECALCULATION_CRON is malformed: expected a cron pattern",
    ],
  ])("names the variable and what is expected (%o)", (override, expected) => {
    const env = { ...valid, ...override } as Record<string, string>;
    for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
    const message = problem(env);
    expect(message).toContain(expected);
    expect(message).not.toContain("\n");
  });

  it("refuses a short admin token in production", () => {
    expect(problem({ ...valid, NODE_ENV: "production", CORE_API_TOKEN: "sixteen-chars-ok" })).toContain(
      "CORE_API_TOKEN is too short for production",
    );
  });

  it("never echoes the malformed secret back", () => {
    expect(problem({ ...valid, ENCRYPTION_KEY: "my-secret-value" })).not.toContain("my-secret-value");
    expect(problem({ ...valid, MONGODB_URI: "mongodb://admin:hunter2@/x?bad=1" })).not.toContain("hunter2");
  });
});

describe("integration settings", () => {
  it("defaults the Google endpoints to Google's and the public URL to localhost:PORT", () => {
    const config = loadConfig({ ...valid, PORT: "8080" });
    expect(config.publicUrl).toBe("http://localhost:8080");
    expect(config.google).toEqual({
      clientId: undefined,
      clientSecret: undefined,
      redirectUri: "http://localhost:8080/api/auth/google/callback",
      authUrl: "https://accounts.google.com/o/oauth2/v2/auth",
      tokenUrl: "https://oauth2.googleapis.com/token",
      revokeUrl: "https://oauth2.googleapis.com/revoke",
      userinfoUrl: "https://openidconnect.googleapis.com/v1/userinfo",
      apiBaseUrl: "https://www.googleapis.com/",
    });
    expect(config.outboundAllowPrivateNetworks).toBe(false);
    expect(config.sandbox).toBe(false);
    expect(config.sandboxOutboxUrl).toBeUndefined();
  });

  it("derives the redirect URI from PUBLIC_URL and reads every override", () => {
    const config = loadConfig({
      ...valid,
      PUBLIC_URL: "https://api.example.com/",
      GOOGLE_CLIENT_ID: "id.apps.googleusercontent.com",
      GOOGLE_CLIENT_SECRET: "shh",
      GOOGLE_TOKEN_URL: "http://127.0.0.1:9/token",
      GOOGLE_API_BASE_URL: "http://127.0.0.1:9/",
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true",
      ECODRIX_SANDBOX: "true",
    });
    expect(config.publicUrl).toBe("https://api.example.com");
    expect(config.google.redirectUri).toBe("https://api.example.com/api/auth/google/callback");
    expect(config.google.clientId).toBe("id.apps.googleusercontent.com");
    expect(config.google.tokenUrl).toBe("http://127.0.0.1:9/token");
    expect(config.google.apiBaseUrl).toBe("http://127.0.0.1:9/");
    expect(config.outboundAllowPrivateNetworks).toBe(true);
    expect(config.sandbox).toBe(true);
    expect(config.sandboxSmtp).toBeUndefined();
    expect(
      loadConfig({ ...valid, ECODRIX_SANDBOX: "true", SANDBOX_SMTP_URL: "smtp://127.0.0.1:2525" })
        .sandboxSmtp,
    ).toEqual({ host: "127.0.0.1", port: 2525 });
    expect(loadConfig({ ...valid, GOOGLE_REDIRECT_URI: "https://x.example/cb" }).google.redirectUri).toBe(
      "https://x.example/cb",
    );
  });

  it.each([
    [{ GOOGLE_CLIENT_ID: "id" }, "GOOGLE_CLIENT_SECRET is missing: expected the OAuth client secret"],
    [{ GOOGLE_CLIENT_SECRET: "s" }, "GOOGLE_CLIENT_ID is missing: expected the OAuth client id"],
    [{ PUBLIC_URL: "api.example.com" }, "PUBLIC_URL is malformed: expected the API's public base URL"],
    [{ GOOGLE_TOKEN_URL: "http://" }, "GOOGLE_TOKEN_URL is malformed: expected an http(s) URL"],
    [{ GOOGLE_API_BASE_URL: "http://exa mple" }, "GOOGLE_API_BASE_URL is malformed"],
    [{ ECODRIX_SANDBOX: "yes" }, "ECODRIX_SANDBOX is malformed: expected true or false"],
    [{ OUTBOUND_ALLOW_PRIVATE_NETWORKS: "1" }, "OUTBOUND_ALLOW_PRIVATE_NETWORKS is malformed"],
    [
      { SANDBOX_SMTP_URL: "smtp://127.0.0.1:2525" },
      "SANDBOX_SMTP_URL is malformed: expected smtp://<host>:<port>, only with ECODRIX_SANDBOX=true",
    ],
    [{ ECODRIX_SANDBOX: "true", SANDBOX_SMTP_URL: "http://127.0.0.1:25" }, "SANDBOX_SMTP_URL is malformed"],
    [
      { ECODRIX_SANDBOX: "true", SANDBOX_SMTP_URL: "smtp://127.0.0.1:70000" },
      "SANDBOX_SMTP_URL is malformed",
    ],
    [
      { ECODRIX_SANDBOX: "true", NODE_ENV: "production" },
      "ECODRIX_SANDBOX is malformed: expected false in production",
    ],
  ])("refuses a bad integration setting (%o)", (override, expected) => {
    const message = problem({ ...valid, ...override });
    expect(message).toContain(expected);
    expect(message).not.toContain("\n");
  });

  it("never echoes the Google client secret", () => {
    expect(problem({ ...valid, GOOGLE_CLIENT_SECRET: "very-secret-value" })).not.toContain("very-secret");
  });
});

describe("decodeKey", () => {
  it("reads 32 bytes as hex or base64 and refuses other lengths", () => {
    const bytes = Buffer.alloc(32, 7);
    expect(decodeKey(bytes.toString("hex"))?.equals(bytes)).toBe(true);
    expect(decodeKey(bytes.toString("base64"))?.equals(bytes)).toBe(true);
    expect(decodeKey(Buffer.alloc(16).toString("hex"))).toBeUndefined();
    expect(decodeKey(Buffer.alloc(31).toString("base64"))).toBeUndefined();
  });
});

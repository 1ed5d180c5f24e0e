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

describe("decodeKey", () => {
  it("reads 32 bytes as hex or base64 and refuses other lengths", () => {
    const bytes = Buffer.alloc(32, 7);
    expect(decodeKey(bytes.toString("hex"))?.equals(bytes)).toBe(true);
    expect(decodeKey(bytes.toString("base64"))?.equals(bytes)).toBe(true);
    expect(decodeKey(Buffer.alloc(16).toString("hex"))).toBeUndefined();
    expect(decodeKey(Buffer.alloc(31).toString("base64"))).toBeUndefined();
  });
});

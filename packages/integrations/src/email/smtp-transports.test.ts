import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "@ecodrix/platform";
import { type SmtpFake, startSmtpFake } from "@ecodrix/test-kit/fakes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSmtpTransports } from "./smtp-transports.js";

const logger = createLogger({ level: "silent", name: "smtp-transports-test" });

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe("SMTP transports: one pool per client, closed when idle or at shutdown", () => {
  let smtp: SmtpFake;
  beforeAll(async () => {
    smtp = await startSmtpFake({ credentials: { user: "u", pass: "p" } });
  });
  afterAll(async () => {
    await smtp.stop();
  });

  const settings = () => ({ host: "localhost", port: smtp.port, secure: false, user: "u", pass: "p" });
  const message = (n: number) => ({
    from: "desk@clinic.example",
    to: "x@patients.example",
    subject: `m${n}`,
    text: "hi",
    messageId: `<m${n}-${Date.now()}@clinic.example>`,
  });

  it("an unused transport closes its connections after idleCloseMs; the next send builds a new one", async () => {
    const transports = createSmtpTransports(
      { logger },
      { connectionTimeoutMs: 2_000, greetingTimeoutMs: 2_000, socketTimeoutMs: 3_000, idleCloseMs: 300 },
    );
    let lookups = 0;
    const resolve = async () => {
      lookups += 1;
      return "127.0.0.1";
    };
    try {
      await transports.send("a", settings(), resolve, message(1));
      await transports.send("a", settings(), resolve, message(2));
      expect(transports.created).toBe(1);
      expect(lookups).toBe(1);
      expect(smtp.openConnections).toBe(1);
      await until("the idle close", () => transports.open === 0 && smtp.openConnections === 0);
      await transports.send("a", settings(), resolve, message(3));
      expect(transports.created).toBe(2);
      expect(lookups).toBe(2);
    } finally {
      await transports.close();
    }
    await until("shutdown close", () => smtp.openConnections === 0);
  });

  it("close() (worker shutdown) closes every client's connections and refuses later sends", async () => {
    const transports = createSmtpTransports({ logger });
    const resolve = async () => "127.0.0.1";
    await transports.send("a", settings(), resolve, message(4));
    await transports.send("b", settings(), resolve, message(5));
    expect(transports.open).toBe(2);
    expect(smtp.openConnections).toBe(2);
    await transports.close();
    expect(transports.open).toBe(0);
    await until("connections closed", () => smtp.openConnections === 0);
    await expect(transports.send("a", settings(), resolve, message(6))).rejects.toThrow(/closed/);
  });
});

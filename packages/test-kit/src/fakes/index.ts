import { googleSandboxFake } from "./google-fake.js";
import { graphApiSandboxFake } from "./graph-api-fake.js";
import type { SandboxFakeEntry } from "./sandbox-fake.js";
import { smtpSandboxFake } from "./smtp-fake.js";
import { webhookReceiverSandboxFake } from "./webhook-receiver-fake.js";

export * from "./google-fake.js";
export * from "./graph-api-fake.js";
export * from "./sandbox.js";
export * from "./sandbox-fake.js";
export * from "./smtp-fake.js";
export * from "./webhook-receiver-fake.js";

/**
 * Every fake the sandbox (`ECODRIX_SANDBOX=true npm start`) runs, one entry each. A new fake of an
 * external service adds its entry here (and its module's export above); the start command, the settings
 * it sets and `GET /api/sandbox/outbox` pick it up without further changes.
 */
export const sandboxFakes: readonly SandboxFakeEntry[] = [
  googleSandboxFake,
  graphApiSandboxFake,
  smtpSandboxFake,
  webhookReceiverSandboxFake,
];

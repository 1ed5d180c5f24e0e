/**
 * What every fake of an external service offers the sandbox (`ECODRIX_SANDBOX=true npm start`): the
 * settings that point the product at it, what it captured (listed by `GET /api/sandbox/outbox`), and
 * a stop. A fake is one entry of the registry in ./index.ts.
 */

/** One message (a WhatsApp send, an e-mail, a webhook delivery, a calendar event) a fake received. */
export interface CapturedMessage {
  /** The fake that captured it: `google`, `whatsapp`, `smtp`, `webhooks` … */
  service: string;
  /** What it is, e.g. `calendar.event`, `whatsapp.message`, `email`, `webhook.delivery`. */
  kind: string;
  /** When the fake received it (ISO). */
  at: string;
  /** Recipients (e-mail addresses, phone numbers, URLs), as the provider saw them. */
  to: string[];
  /** One human line: what was sent. */
  summary: string;
  /** The provider-side details (the created event, the parsed e-mail, the delivered body …). */
  data: Record<string, unknown>;
}

/** A running fake, as the sandbox sees it. */
export interface SandboxFake {
  readonly name: string;
  /** Settings (environment variables) that point the API and the worker at this fake. */
  readonly env: Readonly<Record<string, string>>;
  /** Lines `npm start` prints about this fake (its address, what to enter in a runbook step). */
  readonly notes: readonly string[];
  /** Everything it captured so far, oldest first. */
  captured(): CapturedMessage[];
  stop(): Promise<void>;
}

/** One registry entry: a name and how to start the fake on a free loopback port. */
export interface SandboxFakeEntry {
  readonly name: string;
  start(): Promise<SandboxFake>;
}

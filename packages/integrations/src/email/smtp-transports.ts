import { createHash, randomBytes } from "node:crypto";
import { PassThrough, type Readable } from "node:stream";
import type { Logger } from "@ecodrix/platform";
import { createTransport, type SendMailOptions } from "nodemailer";
import type Mail from "nodemailer/lib/mailer";
import type { SMTPPoolSentMessageInfo } from "nodemailer/lib/smtp-pool";

/** Where and how one client's mail is sent (decrypted secrets, the address already checked). */
export interface SmtpSettings {
  /** The host name of the client's secrets: TLS certificates are verified against it. */
  host: string;
  /** The address `resolveOutboundAddress` checked: the connection goes there, not to a fresh lookup. */
  address: string;
  port: number;
  /** TLS from the start; false: STARTTLS when the server offers it. */
  secure: boolean;
  user: string | undefined;
  pass: string | undefined;
}

export interface SmtpTimeouts {
  /** TCP connect. */
  connectionTimeoutMs: number;
  /** The server's 220 greeting after connecting. */
  greetingTimeoutMs: number;
  /** Silence on an open connection (a reply that never comes). */
  socketTimeoutMs: number;
  /** A client's transport unused this long is closed (its connections with it). */
  idleCloseMs: number;
}

/** Seconds, not minutes: a silent server must not hold a worker slot for long. */
export const DEFAULT_SMTP_TIMEOUTS: SmtpTimeouts = {
  connectionTimeoutMs: 10_000,
  greetingTimeoutMs: 10_000,
  socketTimeoutMs: 30_000,
  idleCloseMs: 60_000,
};

/** The longest one send can take on a connection (connect, greet, and a few silent periods). */
export const maxSendDurationMs = (timeouts: SmtpTimeouts) =>
  timeouts.connectionTimeoutMs + timeouts.greetingTimeoutMs + 4 * timeouts.socketTimeoutMs;

export interface SmtpSendOutcome {
  info: SMTPPoolSentMessageInfo;
}

/** A send's failure, with whether the whole message (its final `.`) had been handed to the server. */
export class SmtpSendError extends Error {
  constructor(
    override readonly cause: unknown,
    /** True once the message body, end included, was written: the server may have accepted it. */
    readonly messageHandedOver: boolean,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "SmtpSendError";
  }
}

export interface SmtpTransports {
  /**
   * Sends through the client's pooled transport, built on first use and rebuilt when its settings
   * change. Rejects with an SmtpSendError.
   */
  send(
    clientCode: string,
    settings: Omit<SmtpSettings, "address">,
    /** The checked address to connect to; asked only when a transport is built. */
    resolveAddress: () => Promise<string>,
    message: SendMailOptions,
  ): Promise<SmtpSendOutcome>;
  /** Drops the client's transport (e.g. after a connection failure: the next send resolves the host again). */
  evict(clientCode: string): void;
  /** Transports built so far (reuse shows as a count that does not grow). */
  readonly created: number;
  /** Open transports. */
  readonly open: number;
  /** Closes every transport (worker shutdown). */
  close(): Promise<void>;
}

const bare = (messageId: string) => messageId.replace(/[<>\s]/g, "");

interface Entry {
  fingerprint: string;
  transport: Mail<SMTPPoolSentMessageInfo>;
  inFlight: number;
  idleTimer: NodeJS.Timeout | undefined;
  /** Per message (by Message-ID): set when the message's last byte has been read by the connection. */
  handedOver: Map<string, () => void>;
}

/**
 * One pooled nodemailer transport per client, reused across jobs, closed after `idleCloseMs` unused and
 * rebuilt when the client's SMTP settings change. The cache key is a salted hash of the settings (the
 * salt is random per process), so neither the map nor anything derived from it holds a secret in clear.
 *
 * nodemailer's own requeue-on-close is off (`maxRequeues: 0`): a message whose connection dropped after
 * the server may have taken it must not go out again behind the job's back; retries are the queue's,
 * guarded by the message log.
 */
export function createSmtpTransports(
  deps: { logger: Pick<Logger, "info" | "warn" | "debug"> },
  timeouts: SmtpTimeouts = DEFAULT_SMTP_TIMEOUTS,
): SmtpTransports {
  const salt = randomBytes(16);
  const entries = new Map<string, Entry>();
  let created = 0;
  let closed = false;

  // The address is not part of the key: it is resolved when a transport is built, and a host whose
  // answer rotates between addresses would otherwise never keep a pooled connection.
  const fingerprintOf = (settings: Omit<SmtpSettings, "address">) =>
    createHash("sha256")
      .update(salt)
      .update(
        JSON.stringify([
          settings.host,
          settings.port,
          settings.secure,
          settings.user ?? null,
          settings.pass ?? null,
        ]),
      )
      .digest("hex");

  function retire(clientCode: string, entry: Entry, why: string): void {
    if (entries.get(clientCode) === entry) entries.delete(clientCode);
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    // A retired transport still finishes what it is sending; it closes when the last send is over.
    if (entry.inFlight === 0) {
      entry.transport.close();
      deps.logger.debug({ clientCode, why }, "smtp transport closed");
    }
  }

  function build(clientCode: string, settings: SmtpSettings, fingerprint: string): Entry {
    const transport = createTransport({
      pool: true,
      host: settings.address,
      port: settings.port,
      secure: settings.secure,
      // The certificate is checked against the host name, not against the address connected to.
      servername: settings.host,
      tls: { servername: settings.host },
      ...(settings.user !== undefined && settings.pass !== undefined
        ? { auth: { user: settings.user, pass: settings.pass } }
        : {}),
      maxConnections: 3,
      maxMessages: 100,
      maxRequeues: 0,
      idleTimeout: timeouts.idleCloseMs,
      connectionTimeout: timeouts.connectionTimeoutMs,
      greetingTimeout: timeouts.greetingTimeoutMs,
      socketTimeout: timeouts.socketTimeoutMs,
      logger: false,
      debug: false,
    });
    const entry: Entry = { fingerprint, transport, inFlight: 0, idleTimer: undefined, handedOver: new Map() };
    // The last stage of every message's stream: its end means the connection read the whole message,
    // so the terminating dot may be on its way. Before that, a dropped connection cannot have
    // delivered it (a server accepts a message only after the dot).
    transport.use("stream", (mail, done) => {
      const messageId = bare(mail.message.messageId());
      const mark = entry.handedOver.get(messageId);
      if (mark) {
        mail.message.processFunc((input: Readable) => {
          const output = new PassThrough();
          output.once("end", mark);
          input.once("error", (error) => output.destroy(error));
          input.pipe(output);
          return output;
        });
      }
      done();
    });
    created += 1;
    deps.logger.debug({ clientCode }, "smtp transport created");
    return entry;
  }

  return {
    async send(clientCode, settings, resolveAddress, message) {
      if (closed) throw new SmtpSendError(new Error("SMTP transports are closed (worker stopping)"), false);
      const fingerprint = fingerprintOf(settings);
      let entry = entries.get(clientCode);
      if (entry && entry.fingerprint !== fingerprint) {
        retire(clientCode, entry, "settings changed");
        entry = undefined;
      }
      if (!entry) {
        // The host is resolved and checked once per transport; its connections all go to that address.
        const address = await resolveAddress();
        entry = entries.get(clientCode);
        if (entry?.fingerprint !== fingerprint) {
          if (entry) retire(clientCode, entry, "settings changed");
          entry = build(clientCode, { ...settings, address }, fingerprint);
          entries.set(clientCode, entry);
        }
      }
      const current = entry;
      if (current.idleTimer) clearTimeout(current.idleTimer);
      current.idleTimer = undefined;
      current.inFlight += 1;
      const messageId = bare(String(message.messageId ?? ""));
      let handedOver = false;
      current.handedOver.set(messageId, () => {
        handedOver = true;
      });
      try {
        const info = await current.transport.sendMail(message);
        return { info };
      } catch (error) {
        throw new SmtpSendError(error, handedOver);
      } finally {
        current.handedOver.delete(messageId);
        current.inFlight -= 1;
        if (current.inFlight === 0) {
          if (entries.get(clientCode) !== current) {
            current.transport.close();
          } else if (!closed) {
            current.idleTimer = setTimeout(() => {
              if (current.inFlight === 0) retire(clientCode, current, "idle");
            }, timeouts.idleCloseMs);
            current.idleTimer.unref();
          }
        }
      }
    },
    evict(clientCode) {
      const entry = entries.get(clientCode);
      if (entry) retire(clientCode, entry, "evicted");
    },
    get created() {
      return created;
    },
    get open() {
      return entries.size;
    },
    async close() {
      closed = true;
      for (const [clientCode, entry] of [...entries]) {
        if (entry.idleTimer) clearTimeout(entry.idleTimer);
        entries.delete(clientCode);
        entry.transport.close();
      }
    },
  };
}

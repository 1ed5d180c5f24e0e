import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer, type SMTPServerSession } from "smtp-server";
import type { CapturedMessage, SandboxFake, SandboxFakeEntry } from "./sandbox-fake.js";

/**
 * A real SMTP server on a free loopback port (smtp-server), standing in for a clinic's mail provider:
 * it requires AUTH (PLAIN or LOGIN, over plain SMTP — STARTTLS is not offered), parses every message it
 * accepts with mailparser, and can refuse or drop messages for chosen recipients.
 */
export interface CapturedEmail {
  /** The SMTP session (connection) that delivered it: two messages with one id shared a connection. */
  sessionId: string;
  /** The user the session authenticated as. */
  user: string | undefined;
  envelope: { from: string; to: string[] };
  messageId: string | undefined;
  from: string;
  to: string[];
  subject: string;
  text: string | undefined;
  html: string | undefined;
  /** Every header, lower-case names, as parsed. */
  headers: Record<string, string>;
  receivedAt: Date;
}

export interface InjectedSmtpReply {
  /** SMTP reply code, e.g. 450 (try later) or 550 (mailbox unavailable). */
  code: number;
  message: string;
  /** Where it is answered: the RCPT TO of that recipient (default) or the end of the message's data. */
  stage?: "rcpt" | "data";
  /** Answer so this many times, then normally (default: every time). */
  times?: number;
}

export interface SmtpFakeOptions {
  /** The credentials AUTH must present (default: any user with any password — the sandbox). */
  credentials?: { user: string; pass: string };
}

export interface SmtpFake {
  readonly host: string;
  readonly port: number;
  /** `smtp://127.0.0.1:<port>` (SANDBOX_SMTP_URL). */
  readonly url: string;
  readonly messages: CapturedEmail[];
  /** SMTP sessions opened so far (a pooled client reuses one). */
  readonly sessions: number;
  /** AUTH attempts refused so far. */
  readonly authFailures: number;
  /** SMTP connections open right now (a closed pool leaves none). */
  readonly openConnections: number;
  /** Changes the credentials AUTH must present (a client's new password). */
  setCredentials(credentials: { user: string; pass: string } | undefined): void;
  /** Refuses messages to `to` with the given reply (4xx or 5xx). */
  failRecipient(to: string, reply: InjectedSmtpReply): void;
  /**
   * Takes the whole message to `to`, then drops the connection without answering (the crash between
   * the server's accepting and the client's hearing of it). The message is captured: it was delivered.
   */
  dropAfterData(to: string, times?: number): void;
  clearFailures(): void;
  stop(): Promise<void>;
}

interface Injected {
  reply?: InjectedSmtpReply;
  drop?: boolean;
  remaining: number;
}

export async function startSmtpFake(options: SmtpFakeOptions = {}): Promise<SmtpFake> {
  let credentials = options.credentials;
  const messages: CapturedEmail[] = [];
  const injected = new Map<string, Injected>();
  let sessions = 0;
  let authFailures = 0;

  /** Consumes one use of an injection for `to` at `stage`, if any. */
  function take(to: string, stage: "rcpt" | "data" | "drop"): Injected | undefined {
    const found = injected.get(to.toLowerCase());
    if (!found || found.remaining <= 0) return undefined;
    const at = found.drop ? "drop" : (found.reply?.stage ?? "rcpt");
    if (at !== stage) return undefined;
    found.remaining -= 1;
    return found;
  }

  const replyError = (reply: InjectedSmtpReply) =>
    Object.assign(new Error(reply.message), { responseCode: reply.code });

  const server = new SMTPServer({
    authMethods: ["PLAIN", "LOGIN"],
    allowInsecureAuth: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    size: 10 * 1024 * 1024,
    onConnect(_session, callback) {
      sessions += 1;
      callback();
    },
    onAuth(auth, _session, callback) {
      const ok =
        credentials === undefined ||
        (auth.username === credentials.user && auth.password === credentials.pass);
      if (!ok) {
        authFailures += 1;
        callback(Object.assign(new Error("Authentication failed"), { responseCode: 535 }));
        return;
      }
      callback(null, { user: auth.username });
    },
    onRcptTo(address, _session, callback) {
      const found = take(address.address, "rcpt");
      callback(found?.reply ? replyError(found.reply) : null);
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const recipients = session.envelope.rcptTo.map((rcpt) => rcpt.address);
        const refused = recipients.map((to) => take(to, "data")).find((found) => found?.reply);
        if (refused?.reply) {
          callback(replyError(refused.reply));
          return;
        }
        const drop = recipients.map((to) => take(to, "drop")).find(Boolean);
        void simpleParser(Buffer.concat(chunks)).then((parsed) => {
          const headers: Record<string, string> = {};
          for (const line of parsed.headerLines) {
            headers[line.key] = line.line.slice(line.line.indexOf(":") + 1).trim();
          }
          const addresses = (value: typeof parsed.to): string[] =>
            (Array.isArray(value) ? value : value ? [value] : []).flatMap((object) =>
              object.value.map((entry) => entry.address ?? ""),
            );
          messages.push({
            sessionId: session.id,
            user: typeof session.user === "string" ? session.user : undefined,
            envelope: {
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
              to: recipients,
            },
            messageId: parsed.messageId,
            from: parsed.from?.text ?? "",
            to: addresses(parsed.to),
            subject: parsed.subject ?? "",
            text: parsed.text,
            html: typeof parsed.html === "string" ? parsed.html : undefined,
            headers,
            receivedAt: new Date(),
          });
          if (drop) {
            for (const connection of server.connections) {
              if (connection.id === session.id) connection._socket.destroy();
            }
            return;
          }
          callback(null, `OK: queued as ${session.id}`);
        }, callback);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    host: "127.0.0.1",
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    get sessions() {
      return sessions;
    },
    get authFailures() {
      return authFailures;
    },
    get openConnections() {
      return server.connections.size;
    },
    setCredentials(next) {
      credentials = next;
    },
    failRecipient(to, reply) {
      injected.set(to.toLowerCase(), { reply, remaining: reply.times ?? Number.POSITIVE_INFINITY });
    },
    dropAfterData(to, times) {
      injected.set(to.toLowerCase(), { drop: true, remaining: times ?? Number.POSITIVE_INFINITY });
    },
    clearFailures() {
      injected.clear();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const connection of server.connections) connection._socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The sandbox's SMTP server: any credentials; every client's e-mail lands here (SANDBOX_SMTP_URL). */
export const smtpSandboxFake: SandboxFakeEntry = {
  name: "smtp",
  async start(): Promise<SandboxFake> {
    const fake = await startSmtpFake();
    return {
      name: "smtp",
      env: { SANDBOX_SMTP_URL: fake.url },
      notes: [
        `SMTP server fake at ${fake.url}: every client's e-mail goes here whatever its smtpHost (any user and password are accepted)`,
      ],
      captured: () =>
        fake.messages.map(
          (message): CapturedMessage => ({
            service: "smtp",
            kind: "email",
            at: message.receivedAt.toISOString(),
            to: message.envelope.to,
            summary: `E-mail "${message.subject}" from ${message.from} to ${message.envelope.to.join(", ")}: ${message.messageId ?? "no Message-ID"}`,
            data: {
              messageId: message.messageId,
              from: message.from,
              to: message.to,
              subject: message.subject,
              text: message.text,
              html: message.html,
              user: message.user,
            },
          }),
        ),
      stop: () => fake.stop(),
    };
  },
};

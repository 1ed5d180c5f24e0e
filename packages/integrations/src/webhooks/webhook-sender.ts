import type { LookupFunction } from "node:net";
import { Agent, request } from "undici";
import type { OutboundAddress } from "../outbound/outbound-address.js";

/** One delivery attempt's budget: connect, send, and the receiver's answer (Standard Webhooks suggests seconds). */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** What `lastError` keeps of a refusing receiver's answer (its reason, e.g. `HMAC mismatch`). */
export const WEBHOOK_ANSWER_BYTES = 200;

export interface WebhookAnswer {
  status: number;
  /** The first WEBHOOK_ANSWER_BYTES bytes of the body, as text. */
  bodyStart: string;
  location: string | undefined;
  retryAfter: string | undefined;
}

/**
 * POSTs `body` to `url`, connecting to `address` (the one the outbound guard checked) whatever the name
 * resolves to now: the Host header and TLS name stay the URL's host. Redirects are never followed (a
 * redirect is an answer like any other), and the answer's body is read only up to WEBHOOK_ANSWER_BYTES.
 * Throws undici's errors when no answer came (connection refused, reset, timeout, abort).
 */
export async function postWebhook(input: {
  url: URL;
  address: OutboundAddress;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}): Promise<WebhookAnswer> {
  const pinned = input.address;
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: pinned.address, family: pinned.family }]);
    else callback(null, pinned.address, pinned.family);
  };
  // One agent per attempt: its lookup answers with the checked address only, so a pooled socket to
  // another address can never be reused for this host (and nothing lingers between deliveries).
  const agent = new Agent({
    connections: 1,
    pipelining: 0,
    connectTimeout: WEBHOOK_TIMEOUT_MS,
    headersTimeout: WEBHOOK_TIMEOUT_MS,
    bodyTimeout: WEBHOOK_TIMEOUT_MS,
    connect: { lookup },
  });
  try {
    const response = await request(input.url, {
      method: "POST",
      dispatcher: agent,
      headers: input.headers,
      body: input.body,
      signal: input.signal,
    });
    let bodyStart = "";
    try {
      const chunks: Buffer[] = [];
      let length = 0;
      for await (const chunk of response.body) {
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        chunks.push(buffer);
        length += buffer.length;
        if (length >= WEBHOOK_ANSWER_BYTES) break;
      }
      bodyStart = new TextDecoder("utf-8", { fatal: false })
        .decode(Buffer.concat(chunks).subarray(0, WEBHOOK_ANSWER_BYTES))
        // A receiver's text lands in lastError: one printable line.
        // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
        .replace(/[\u0000-\u001f\u007f]+/g, " ")
        .trim();
    } catch {
      // The status is the answer; a body cut short changes nothing about it.
    }
    const header = (name: string) => {
      const value = response.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    return {
      status: response.statusCode,
      bodyStart,
      location: header("location"),
      retryAfter: header("retry-after"),
    };
  } finally {
    await agent.destroy().catch(() => undefined);
  }
}

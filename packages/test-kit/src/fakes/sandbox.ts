import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { CapturedMessage, SandboxFake, SandboxFakeEntry } from "./sandbox-fake.js";

/** A captured message as the outbox lists it: numbered in the order the outbox first saw it. */
export interface OutboxMessage extends CapturedMessage {
  id: string;
}

export interface Sandbox {
  readonly fakes: readonly SandboxFake[];
  /** Every setting the API and the worker need in sandbox mode (the fakes' and the sandbox's own). */
  readonly env: Readonly<Record<string, string>>;
  /** Where the captured messages are served as JSON (`GET <outboxUrl>`), on loopback only. */
  readonly outboxUrl: string;
  /** All fakes' captured messages, oldest first. */
  outbox(): OutboxMessage[];
  stop(): Promise<void>;
}

/** Oldest first; each fake's own order kept, ids stable (`<service>-<n>`, n counting from 1 per fake). */
function collect(fakes: readonly SandboxFake[]): OutboxMessage[] {
  const all = fakes.flatMap((fake) =>
    fake.captured().map((message, index) => ({ ...message, id: `${fake.name}-${index + 1}` })),
  );
  return all.sort((a, b) => a.at.localeCompare(b.at));
}

/**
 * Starts every fake of the registry on free loopback ports, and a small loopback HTTP server that
 * serves what they captured (the API's `GET /api/sandbox/outbox` reads it). If one fake cannot start,
 * those already started are stopped again.
 */
export async function startSandbox(entries: readonly SandboxFakeEntry[]): Promise<Sandbox> {
  const fakes: SandboxFake[] = [];
  try {
    for (const entry of entries) fakes.push(await entry.start());
  } catch (error) {
    await Promise.allSettled(fakes.map((fake) => fake.stop()));
    throw error;
  }
  const server: Server = createServer((request, response) => {
    if (request.method !== "GET" || (request.url ?? "/").split("?")[0] !== "/outbox") {
      response.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
      return;
    }
    response
      .writeHead(200, { "content-type": "application/json; charset=utf-8" })
      .end(JSON.stringify({ messages: collect(fakes) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const outboxUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/outbox`;
  const env: Record<string, string> = {};
  for (const fake of fakes) Object.assign(env, fake.env);
  Object.assign(env, {
    ECODRIX_SANDBOX: "true",
    // The fakes listen on loopback: webhook URLs and SMTP hosts there must be allowed.
    OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true",
    SANDBOX_OUTBOX_URL: outboxUrl,
  });
  return {
    fakes,
    env,
    outboxUrl,
    outbox: () => collect(fakes),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled(fakes.map((fake) => fake.stop()));
    },
  };
}

import { Agent, request } from "node:http";
import type { AddressInfo } from "node:net";
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { createConnectionDrainer } from "./connection-drainer.js";

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
  socketId: number;
}

const socketIds = new WeakMap<object, number>();
let nextSocketId = 1;

function post(agent: Agent, port: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method: "POST", path: "/work", agent }, (res) => {
      // Which connection carried it (the socket goes back to the agent once the response ends).
      const socket = res.socket ?? {};
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on("end", () => {
        if (!socketIds.has(socket)) socketIds.set(socket, nextSocketId++);
        resolve({
          status: res.statusCode ?? 0,
          connection: res.headers.connection,
          body,
          socketId: socketIds.get(socket) ?? 0,
        });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("draining the API's connections before it closes", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function serve(handlerDelayMs = 0) {
    const app = Fastify();
    app.post("/work", async () => {
      if (handlerDelayMs) await new Promise((resolve) => setTimeout(resolve, handlerDelayMs));
      return { ok: true };
    });
    const drainer = createConnectionDrainer(app.server);
    await app.listen({ port: 0, host: "127.0.0.1" });
    cleanups.push(() => app.close());
    return { app, drainer, port: (app.server.address() as AddressInfo).port };
  }

  it("answers the next request on a keep-alive connection with Connection: close (not 503, not a reset), and refuses new connections", async () => {
    const { drainer, port } = await serve();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(async () => agent.destroy());
    const first = await post(agent, port);
    expect(first.connection).toBe("keep-alive");

    // The connection is idle now; the drain must not close it under the client.
    const drained = drainer.drain(5_000);
    const second = await post(agent, port);
    expect(second).toMatchObject({ status: 200, connection: "close", body: '{"ok":true}' });
    expect(second.socketId).toBe(first.socketId);
    expect(await drained).toMatchObject({ leftOpen: 0 });
    expect(await drained.then((r) => r.waitedMs)).toBeLessThan(5_000);

    await expect(post(new Agent(), port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("lets an in-flight request finish, telling its client to close the connection", async () => {
    const { drainer, port } = await serve(300);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(async () => agent.destroy());
    const inFlight = post(agent, port);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const drained = drainer.drain(5_000);
    expect(await inFlight).toMatchObject({ status: 200, connection: "close" });
    expect(await drained).toMatchObject({ leftOpen: 0 });
  });

  it("closes connections that stay idle throughout the wait", async () => {
    const { drainer, port } = await serve();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(async () => agent.destroy());
    await post(agent, port);
    const drained = await drainer.drain(300);
    expect(drained.waitedMs).toBeGreaterThanOrEqual(300);
    expect(drained.leftOpen).toBe(0);
  });
});

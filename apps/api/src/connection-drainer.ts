import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { Server as NetServer, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export interface DrainResult {
  /** Connections still open when the wait ended (then closed if idle; busy ones finish in app.close()). */
  leftOpen: number;
  waitedMs: number;
}

export interface ConnectionDrainer {
  /**
   * Stops accepting connections and ends the open ones without cutting a request short: every
   * response from now on (and each in-flight one whose headers are not yet out) says
   * `Connection: close`, so each client finishes its current exchange, or sends its next request and
   * gets an answer, then opens a new connection — to the replacement process. Resolves when every
   * connection has closed, or after `timeoutMs`, when the idle ones left are closed.
   */
  drain(timeoutMs: number): Promise<DrainResult>;
}

/**
 * Why not just `app.close()`: since Node 19 `http.Server.close()` closes idle keep-alive connections
 * at once. A client about to send its next request on one (any busy keep-alive client, between two
 * requests) sees a reset, and a POST is not retried. And Fastify answers requests that arrive while it
 * closes with 503. Draining first leaves `app.close()` nothing to cut.
 */
export function createConnectionDrainer(server: Server): ConnectionDrainer {
  const sockets = new Set<Socket>();
  const inFlight = new Set<ServerResponse>();
  let draining = false;

  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  // Before Fastify's own listener, so the header is set before any handler can answer.
  server.prependListener("request", (_request: IncomingMessage, response: ServerResponse) => {
    if (draining) {
      response.setHeader("connection", "close");
      return;
    }
    inFlight.add(response);
    response.once("close", () => inFlight.delete(response));
  });

  return {
    async drain(timeoutMs) {
      const started = Date.now();
      draining = true;
      for (const response of inFlight) if (!response.headersSent) response.setHeader("connection", "close");
      // net.Server's close, not http.Server's: stop accepting (in a PM2 cluster the primary stops
      // routing new connections here) without closing idle keep-alive connections under their clients.
      NetServer.prototype.close.call(server);
      while (sockets.size > 0 && Date.now() - started < timeoutMs) await sleep(25);
      // Idle all along the wait: their clients are not sending; close them now.
      server.closeIdleConnections();
      const leftOpen = [...sockets].filter((socket) => !socket.destroyed).length;
      return { leftOpen, waitedMs: Date.now() - started };
    },
  };
}

import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { SINGLE_LINE_TEXT_PATTERN } from "@ecodrix/domain";
import { AppError } from "@ecodrix/platform";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { databaseUnavailable, isDatabaseUnavailable } from "./database-unavailable.js";

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  code: string;
}

function body(statusCode: number, message: string, code: string): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? "Error", message, code };
}

/**
 * Fastify's `frameworkErrors` option: errors raised before routing (a malformed URL, an over-long path
 * parameter) in the same body as every other error.
 */
export function frameworkErrorHandler(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const statusCode = error.statusCode ?? 400;
  const message = error.code === "FST_ERR_BAD_URL" ? "The URL is malformed" : error.message;
  reply.status(statusCode).send(body(statusCode, message, `ECODRIX_HTTP_${statusCode}`));
}

/**
 * Fastify's `clientErrorHandler`: errors Node's HTTP parser raises before there is a request (headers over
 * 16 KB, a request that is not HTTP, a request that took too long to arrive), answered in the product's
 * error format on the raw socket, which is then closed (Node cannot read further requests from it).
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  let statusCode = 400;
  let message = "The request is not valid HTTP";
  if (error.code === "HPE_HEADER_OVERFLOW") {
    statusCode = 431;
    message = "The request's headers are too large: at most 16 KB in all";
  } else if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    statusCode = 408;
    message = "The request took too long to arrive";
  }
  const json = JSON.stringify(body(statusCode, message, `ECODRIX_HTTP_${statusCode}`));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
    );
  }
  socket.destroySoon();
}

/** Names the field of a schema validation error, e.g. `body/email must match format "email"`. */
function validationMessage(error: FastifyError): string {
  const first = error.validation?.[0];
  if (!first) return error.message;
  const context = error.validationContext ?? "body";
  if (first.keyword === "additionalProperties") {
    const extra = String((first.params as { additionalProperty?: unknown }).additionalProperty);
    const where = first.instancePath ? `${context}${first.instancePath}` : context;
    return `${where}/${extra} is not an allowed field`;
  }
  if (
    first.keyword === "pattern" &&
    (first.params as { pattern?: unknown }).pattern === SINGLE_LINE_TEXT_PATTERN
  ) {
    return `${context}${first.instancePath} must be one line of text (no tabs or line breaks)`;
  }
  if (first.keyword === "required") {
    const missing = String((first.params as { missingProperty?: unknown }).missingProperty);
    return `${context}${first.instancePath}/${missing} is required`;
  }
  return `${context}${first.instancePath} ${first.message ?? "is invalid"}`;
}

/**
 * One error handler for the API: 4xx with a clear message, 5xx without internals, always
 * `{ statusCode, error, message, code }`.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (!(error instanceof AppError) && isDatabaseUnavailable(error)) {
      // Logged without the driver's message (it may name hosts); the class says what happened.
      request.log.warn({ errorName: error.name }, "database unavailable: answered 503");
      const unavailable = databaseUnavailable(error);
      if (unavailable.headers) reply.headers(unavailable.headers);
      return reply.status(503).send(body(503, unavailable.message, unavailable.code));
    }
    if (error instanceof AppError) {
      if (error.statusCode >= 500 && !error.expose) request.log.error({ err: error }, "request failed");
      if (error.headers) reply.headers(error.headers);
      const message = error.expose ? error.message : "Internal Server Error";
      const coded = body(error.statusCode, message, error.code);
      if (!error.expose) return reply.status(error.statusCode).send(coded);
      // Details (existingLeadId, hint) after the coded fields, and never in place of one of them.
      const details = Object.entries(error.details ?? {}).filter(([name]) => !(name in coded));
      return reply.status(error.statusCode).send({ ...coded, ...Object.fromEntries(details) });
    }
    if ("validation" in error && error.validation) {
      return reply.status(400).send(body(400, validationMessage(error), "ECODRIX_VALIDATION_FAILED"));
    }
    const statusCode = error.statusCode ?? 500;
    if (statusCode >= 400 && statusCode < 500) {
      const code = error.code?.startsWith("FST_")
        ? `ECODRIX_HTTP_${statusCode}`
        : (error.code ?? `ECODRIX_HTTP_${statusCode}`);
      let message = error.message;
      if (error.code === "FST_ERR_CTP_INVALID_JSON_BODY" || error instanceof SyntaxError)
        message = "Body is not valid JSON";
      if (statusCode === 413) message = "Body is too large";
      return reply.status(statusCode).send(body(statusCode, message, code));
    }
    request.log.error({ err: error }, "request failed");
    return reply.status(500).send(body(500, "Internal Server Error", "ECODRIX_INTERNAL"));
  });

  const notFoundBody = (request: FastifyRequest) =>
    body(404, `Route ${request.method} ${request.url.split("?")[0]} not found`, "ECODRIX_ROUTE_NOT_FOUND");

  // Fastify runs the not-found handler through the whole request lifecycle, body parsing included: an
  // unknown route would parse (and pay for) whatever body it is sent. Answered here, in the first
  // onRequest hook, the body is never parsed (Node discards it unread).
  app.addHook("onRequest", async (request, reply) => {
    if (request.is404) return reply.status(404).send(notFoundBody(request));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(notFoundBody(request));
  });
}

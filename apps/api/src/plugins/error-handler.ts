import { STATUS_CODES } from "node:http";
import { AppError } from "@ecodrix/platform";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

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
    if (error instanceof AppError) {
      if (error.statusCode >= 500 && !error.expose) request.log.error({ err: error }, "request failed");
      if (error.headers) reply.headers(error.headers);
      const message = error.expose ? error.message : "Internal Server Error";
      return reply.status(error.statusCode).send(body(error.statusCode, message, error.code));
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

  app.setNotFoundHandler((request, reply) => {
    reply
      .status(404)
      .send(
        body(
          404,
          `Route ${request.method} ${request.url.split("?")[0]} not found`,
          "ECODRIX_ROUTE_NOT_FOUND",
        ),
      );
  });
}

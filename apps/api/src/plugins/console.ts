import { existsSync } from "node:fs";
import path from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifySchema } from "fastify";

/**
 * The console's Content-Security-Policy: its own scripts, styles and API only. No inline script or
 * style, no eval, no other origin (no CDN), no plugins, no framing, no form posts; Trusted Types make
 * the browser refuse any innerHTML-style sink, so data can only ever be rendered as text.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "content-security-policy": CONSOLE_CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), clipboard-read=()",
} as const;

export interface ConsoleOptions {
  /** The console's build output (apps/console/dist/web); `npm run build:console` writes it. */
  root: string;
}

/**
 * Serves the operators' console at /console/ (the Vite build of apps/console) with a strict CSP.
 * The files are public: they hold no data and no secret; the console calls the admin API with the
 * token the operator types in, so everything it shows is behind `x-core-api-key`.
 */
export async function registerConsole(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  if (!existsSync(path.join(options.root, "index.html"))) {
    app.log.warn({ root: options.root }, "the console is not built: /console answers 503 until it is");
    const notBuilt = (_request: unknown, reply: FastifyReply) =>
      reply.status(503).send({
        statusCode: 503,
        error: "Service Unavailable",
        message: "The console is not built: run npm run build:console (npm start builds it)",
        code: "ECODRIX_CONSOLE_NOT_BUILT",
      });
    // Hidden from the API's OpenAPI document, as @fastify/static's own routes are.
    const hidden = { hide: true } as FastifySchema;
    app.get("/console", { schema: hidden }, notBuilt);
    app.get("/console/*", { schema: hidden }, notBuilt);
    return;
  }
  await app.register(async (scope) => {
    scope.addHook("onSend", async (_request, reply, payload) => {
      reply.headers(SECURITY_HEADERS);
      return payload;
    });
    await scope.register(fastifyStatic, {
      root: options.root,
      // Without the trailing slash, so that redirect: true answers /console with a 301 to /console/.
      prefix: "/console",
      redirect: true,
      index: ["index.html"],
      // Another part of the API may register @fastify/static too (API docs); do not clash on reply.sendFile.
      decorateReply: false,
      cacheControl: false,
      setHeaders(reply, filePath) {
        // Vite names assets by content hash: cache them for good. index.html names the current ones,
        // so it is revalidated on every load.
        const asset = filePath.includes(`${path.sep}assets${path.sep}`);
        reply.header("cache-control", asset ? "public, max-age=31536000, immutable" : "no-cache");
      },
    });
  });
}

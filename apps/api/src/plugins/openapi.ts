import { randomBytes } from "node:crypto";
import fastifySwagger from "@fastify/swagger";
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifySchema,
  type RouteOptions,
} from "fastify";

/** The product's error body, defined once: every 4xx/5xx of every route refers to it. */
export const ERROR_SCHEMA_ID = "ErrorResponse";
export const errorResponseSchema = {
  $id: ERROR_SCHEMA_ID,
  type: "object",
  description:
    "Every error: the HTTP status, its name, a message naming the problem (the field, the header, the id) and a stable code `ECODRIX_<AREA>_<REASON>`. Some errors add fields beside these four (`existingLeadId` on a duplicate lead, `hint` on a template that is not synced).",
  required: ["statusCode", "error", "message", "code"],
  properties: {
    statusCode: { type: "integer", minimum: 400, maximum: 599 },
    error: { type: "string", examples: ["Bad Request"] },
    message: { type: "string", examples: ['body/email must match format "email"'] },
    code: {
      type: "string",
      description:
        "Stable across releases: program against it, not the message. Common ones: ECODRIX_VALIDATION_FAILED (400, the message names the field), ECODRIX_HTTP_400 / ECODRIX_HTTP_413 / ECODRIX_HTTP_415 (malformed, too large or non-JSON body), ECODRIX_AUTH_ADMIN_KEY_MISSING / ECODRIX_AUTH_ADMIN_KEY_INVALID, ECODRIX_AUTH_CLIENT_CODE_MISSING / ECODRIX_AUTH_API_KEY_MISSING / ECODRIX_AUTH_INVALID_API_KEY (401), ECODRIX_AUTH_RATE_LIMITED (429, with Retry-After), ECODRIX_CLIENTS_NOT_FOUND, ECODRIX_TENANT_NO_CONNECTION (409 `No tenant connection for <clientCode>`), ECODRIX_ROUTE_NOT_FOUND, ECODRIX_DATABASE_UNAVAILABLE (503, with Retry-After), ECODRIX_INTERNAL (500, no details).",
      examples: ["ECODRIX_VALIDATION_FAILED"],
    },
  },
  // Errors may carry details beside the four fields (AppError's `details`); the serializer keeps them.
  additionalProperties: true,
} as const;

const errorRef = { $ref: `${ERROR_SCHEMA_ID}#` } as const;
const errorResponse = (description: string) => ({ description, ...errorRef });

/** Security requirement objects (OpenAPI): the admin token; the tenant's key and code together. */
export const ADMIN_SECURITY = [{ adminToken: [] }];
export const TENANT_SECURITY = [{ tenantApiKey: [], tenantClientCode: [] }];

type Scope = "admin" | "tenant" | "public";

/**
 * Responses every route of a scope can give beside its own: the error model for any 4xx and 5xx, and the
 * authentication failures of the scope. A route's own entry for a status wins (an HTML page, a health body).
 */
function scopeResponses(scope: Scope): Record<string, unknown> {
  const common = {
    "4xx": errorResponse("Bad input (the message names the field) or a refused request, in the error model"),
    "5xx": errorResponse("The server or its database failed; no internals are shown"),
  };
  if (scope === "admin") {
    return {
      401: errorResponse("x-core-api-key missing or wrong"),
      429: errorResponse("Too many failed admin authentications from this address: see Retry-After"),
      ...common,
    };
  }
  if (scope === "tenant") {
    return {
      401: errorResponse("x-client-code or x-api-key missing, or the key is wrong (rotated)"),
      429: errorResponse("Too many failed authentications for this client code: see Retry-After"),
      ...common,
    };
  }
  return common;
}

/**
 * Adds a scope's security requirement and error responses to each route registered in `scope` (and any
 * scope inside it), so a new route is documented with them without listing it anywhere. Hidden routes
 * (`schema.hide`) are left alone. Call it before the scope registers its routes.
 */
export function documentScope(scope: FastifyInstance, kind: Scope): void {
  scope.addHook("onRoute", (route: RouteOptions) => {
    const schema = (route.schema ?? {}) as FastifySchema & {
      hide?: boolean;
      security?: unknown;
      response?: Record<string, unknown>;
    };
    if (schema.hide) return;
    // New objects: route files share schema constants between routes.
    route.schema = {
      ...schema,
      ...(kind === "admin" ? { security: ADMIN_SECURITY } : {}),
      ...(kind === "tenant" ? { security: TENANT_SECURITY } : {}),
      response: { ...scopeResponses(kind), ...schema.response },
    } as FastifySchema;
  });
}

const hiddenByApp = new WeakMap<FastifyInstance, string[]>();

/**
 * The routes left out of the document (`schema.hide`), as `METHOD url`: the test holds them to the list of
 * stated exceptions, so hiding a route is never a way around documenting it.
 */
export function hiddenRoutes(app: FastifyInstance): readonly string[] {
  return hiddenByApp.get(app) ?? [];
}

export interface OpenApiOptions {
  version: string;
  /** The public URL the document names as its server (PUBLIC_URL); omitted, the page's own origin. */
  publicUrl?: string;
}

/**
 * The docs page's Content-Security-Policy: scripts are its own (the Scalar bundle served from the
 * package, no CDN) and the one inline script that starts it, allowed by a per-request nonce; no eval.
 * Styles may be inline: the bundle's framework inserts <style> elements of its own (themes, components)
 * without the nonce, and a browser would refuse them (the page shows no data of anyone's, so inline CSS
 * has nothing to exfiltrate). It fetches from this origin only: no fonts, proxy or telemetry elsewhere.
 */
export function docsCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'self' 'nonce-${nonce}'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join("; ");
}

// Scalar renders the nonce it is configured with into the page; each response swaps in its own.
const NONCE_PLACEHOLDER = "ecodrix-docs-nonce-placeholder";

/**
 * `GET /api/openapi.json` (OpenAPI 3.1, generated by @fastify/swagger from the routes' own schemas) and
 * the docs page `GET /api/docs` (Scalar, its JS bundle served by this server). Register before any route:
 * @fastify/swagger collects routes as they are added.
 */
export async function registerOpenApi(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  const hidden: string[] = [];
  hiddenByApp.set(app, hidden);
  app.addHook("onRoute", (route) => {
    if ((route.schema as { hide?: boolean } | undefined)?.hide) {
      for (const method of [route.method].flat())
        if (method !== "HEAD") hidden.push(`${method} ${route.url}`);
    }
  });
  app.addSchema(errorResponseSchema);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "ECODrIx API",
        version: options.version,
        description:
          "Multi-tenant patient-communication API. Admin routes (onboarding, jobs) take `x-core-api-key`; a client's apps call the tenant routes with `x-api-key` and `x-client-code`. Every error is `{ statusCode, error, message, code }` (ErrorResponse). The operations runbook (apps/api/RUNBOOK.md) walks through onboarding with these routes.",
      },
      ...(options.publicUrl ? { servers: [{ url: options.publicUrl }] } : {}),
      tags: [
        { name: "admin", description: "Operators: clients, secrets, datasources, jobs (x-core-api-key)" },
        {
          name: "tenant",
          description: "A client's apps: CRM, messaging, its jobs (x-api-key + x-client-code)",
        },
        { name: "public", description: "No API key: health, the Google OAuth pages, inbound webhooks" },
      ],
      components: {
        securitySchemes: {
          adminToken: {
            type: "apiKey",
            in: "header",
            name: "x-core-api-key",
            description: "CORE_API_TOKEN, compared in constant time",
          },
          tenantApiKey: {
            type: "apiKey",
            in: "header",
            name: "x-api-key",
            description: "The client's API key (shown once at creation or rotation)",
          },
          tenantClientCode: {
            type: "apiKey",
            in: "header",
            name: "x-client-code",
            description: "The client's code, sent with its x-api-key",
          },
        },
      },
    },
    // Shared schemas keep their $id as their name in components.schemas (ErrorResponse, not def-0).
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === "string" ? json.$id : `def-${i}`,
    },
  });

  app.get(
    "/api/openapi.json",
    {
      schema: {
        summary: "This API's OpenAPI 3.1 document",
        tags: ["public"],
        response: {
          200: {
            description: "The document (generated from the routes' own schemas)",
            type: "object",
            additionalProperties: true,
          },
        },
      },
    },
    async () => app.swagger(),
  );

  await app.register(async (docs) => {
    docs.addHook("onSend", async (_request, reply, payload) => {
      if (typeof payload !== "string" || !payload.includes(NONCE_PLACEHOLDER)) {
        reply.header("content-security-policy", docsCsp(randomBytes(16).toString("base64")));
        return payload;
      }
      const nonce = randomBytes(16).toString("base64");
      reply.header("content-security-policy", docsCsp(nonce));
      reply.header("cache-control", "no-store");
      return payload.replaceAll(NONCE_PLACEHOLDER, nonce);
    });
    docs.addHook("onSend", async (_request, reply, payload) => {
      reply.header("x-content-type-options", "nosniff");
      reply.header("x-frame-options", "DENY");
      reply.header("referrer-policy", "no-referrer");
      return payload;
    });
    // Scalar's plugin carries its 5 MB browser bundle inside its module (~200 ms and ~35 MB RSS to import):
    // it is imported on the first visit to the docs, not at every API start, into a Fastify instance of
    // its own that these two routes ask.
    let scalar: Promise<FastifyInstance> | undefined;
    const scalarApp = () => {
      scalar ??= (async () => {
        const { default: scalarApiReference } = await import("@scalar/fastify-api-reference");
        const inner = Fastify();
        await inner.register(scalarApiReference, {
          routePrefix: "/api/docs",
          configuration: {
            url: "/api/openapi.json",
            pageTitle: "ECODrIx API",
            nonce: NONCE_PLACEHOLDER,
            // Nothing from other origins: the page's CSP would refuse it anyway.
            withDefaultFonts: false,
            hideClientButton: true,
            telemetry: false,
            showDeveloperTools: "never",
            agent: { disabled: true },
            mcp: { disabled: true },
          } as Record<string, unknown>,
        });
        await inner.ready();
        return inner;
      })().catch((error: unknown) => {
        scalar = undefined;
        throw error;
      });
      return scalar;
    };
    const forward = async (request: FastifyRequest, reply: FastifyReply) => {
      const answer = await (await scalarApp()).inject({ method: "GET", url: request.url });
      if (answer.statusCode === 404) return reply.callNotFound();
      for (const name of ["content-type", "location", "content-disposition"]) {
        const value = answer.headers[name];
        if (value !== undefined) reply.header(name, value);
      }
      return reply.status(answer.statusCode).send(answer.body);
    };
    const hidden = { hide: true } as FastifySchema;
    docs.get("/api/docs", { schema: hidden }, forward);
    docs.get("/api/docs/*", { schema: hidden }, forward);
  });
}

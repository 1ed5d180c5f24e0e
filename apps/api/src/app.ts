import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { consoleDistDir } from "@ecodrix/console";
import { createCrmServices, createScoringService, crmCapabilities } from "@ecodrix/crm";
import { createTenancyServices, type TenancyServices } from "@ecodrix/domain";
import { integrationCapabilities } from "@ecodrix/integrations";
import { createGoogleConnectService } from "@ecodrix/integrations/google-oauth";
import type { Config, Logger } from "@ecodrix/platform";
import type { ApiQueue } from "@ecodrix/queue";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from "fastify";
import type { Db } from "mongodb";
import { requireAdmin } from "./plugins/admin-auth.js";
import { createFailedAuthLimiter, type FailedAuthLimiterOptions } from "./plugins/auth-rate-limiter.js";
import { registerBodyGuard } from "./plugins/body-guard.js";
import { registerConsole } from "./plugins/console.js";
import { registerCors } from "./plugins/cors.js";
import { clientErrorHandler, frameworkErrorHandler, registerErrorHandler } from "./plugins/error-handler.js";
import { registerJsonParser } from "./plugins/json-parser.js";
import { documentScope, registerOpenApi } from "./plugins/openapi.js";
import { refuseTokensInQuery, registerQueryCredentialGuard } from "./plugins/query-credentials.js";
import { requireTenant } from "./plugins/tenant-auth.js";
import { registerValidation } from "./plugins/validation.js";
import { adminDiagnosticsRoutes } from "./routes/admin-diagnostics-routes.js";
import { adminGoogleRoutes } from "./routes/admin-google-routes.js";
import { adminJobsRoutes } from "./routes/admin-jobs-routes.js";
import { clientsRoutes } from "./routes/clients-routes.js";
import { crmAppointmentsRoutes } from "./routes/crm-appointments-routes.js";
import { crmAutomationsRoutes } from "./routes/crm-automations-routes.js";
import { crmLeadsRoutes } from "./routes/crm-leads-routes.js";
import { crmScoringRoutes } from "./routes/crm-scoring-routes.js";
import { googleOAuthRoutes } from "./routes/google-oauth-routes.js";
import { healthRoutes } from "./routes/health-routes.js";
import { sandboxRoutes } from "./routes/sandbox-routes.js";
import { tenantCorsRoutes } from "./routes/tenant-cors-routes.js";
import { tenantEmailRoutes } from "./routes/tenant-email-routes.js";
import { tenantGoogleRoutes } from "./routes/tenant-google-routes.js";
import { tenantJobsRoutes } from "./routes/tenant-jobs-routes.js";
import { tenantWebhooksRoutes } from "./routes/tenant-webhooks-routes.js";
import { tenantWhatsappRoutes } from "./routes/tenant-whatsapp-routes.js";
import { whatsappWebhookRoutes } from "./routes/whatsapp-webhook-routes.js";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/** Every capability's secret fields, tenant indexes and offboarding steps. */
export const productCapabilities = [...integrationCapabilities, ...crmCapabilities];

export interface AppDeps {
  /**
   * encryptionKeys: main.ts always passes them; tests that store no secrets may omit them (a random key).
   * Without `google` the Google routes answer 503; without `sandbox` the sandbox routes are absent.
   */
  config: Pick<Config, "coreApiToken"> &
    Partial<
      Pick<
        Config,
        | "encryptionKeys"
        | "google"
        | "outboundAllowPrivateNetworks"
        | "publicUrl"
        | "sandbox"
        | "sandboxOutboxUrl"
        | "trustProxy"
      >
    >;
  db: Db;
  logger: Logger;
  /** The producer and admin sides only: the API cannot claim jobs. */
  queue: ApiQueue;
  /** Clients, secrets, datasources, CORS, tenant pool; built from db + config when omitted. */
  tenancy?: TenancyServices;
  /** Told of every route registered in the tenant scope (the isolation test checks each has a case). */
  onTenantRoute?: (route: { method: string; url: string }) => void;
  /** Failed tenant-authentication limit per IP and client code (default 20 per minute; 100 per IP). */
  authRateLimit?: FailedAuthLimiterOptions;
  /** The ops console's build output served at /console/ (default: apps/console/dist/web). */
  consoleRoot?: string;
  /** Failed admin-authentication limit per IP (default 20 per minute). */
  adminAuthRateLimit?: FailedAuthLimiterOptions;
}

/**
 * TRUST_PROXY as Fastify's option. A hop count becomes a function trusting the nearest `hops` addresses
 * (Fastify itself treats a number as "trust nothing", since with a hop count a caller that reaches the
 * API directly can forge X-Forwarded-For; the RUNBOOK says to prefer addresses or CIDRs for that reason).
 */
export function fastifyTrustProxy(
  trustProxy: Config["trustProxy"],
): false | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trustProxy === "number") return (_address, hop) => hop < trustProxy;
  return trustProxy;
}

/** The API's composition root: tests call it with a test database; main.ts with the real one. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 100 * 1024,
    // TRUST_PROXY: which proxies may tell us the client's address (X-Forwarded-For). Without it the
    // socket's peer is the client, so behind a load balancer every caller would share its address and
    // the failed-authentication limits would count them together.
    trustProxy: fastifyTrustProxy(deps.config.trustProxy ?? false),
    // Our JSON parser (plugins/json-parser.ts) uses JSON.parse, which keeps "__proto__" as a plain own
    // property (it never sets a prototype); the body guard then refuses such bodies before any hook or
    // handler sees them, naming the field.
    onProtoPoisoning: "ignore",
    onConstructorPoisoning: "ignore",
    // Errors Fastify raises before routing (a malformed URL) use the product's error format too.
    frameworkErrors: (error, request, reply) => frameworkErrorHandler(error, request, reply as FastifyReply),
    // …and so do the errors Node's HTTP parser raises before there is a request (431, 400, 408).
    clientErrorHandler,
  });
  registerValidation(app);
  registerErrorHandler(app);
  registerQueryCredentialGuard(app);
  registerJsonParser(app);
  registerBodyGuard(app);
  const encryptionKeys = deps.config.encryptionKeys ?? [randomBytes(32)];
  const tenancy =
    deps.tenancy ??
    createTenancyServices({
      db: deps.db,
      encryptionKeys,
      queue: deps.queue,
      logger: deps.logger,
      capabilities: productCapabilities,
    });
  await tenancy.ensureIndexes();
  if (!deps.tenancy) app.addHook("onClose", () => tenancy.close());
  await registerCors(app, { corsOrigins: tenancy.corsOrigins });
  const google = createGoogleConnectService({
    config: {
      ...(deps.config.google ? { google: deps.config.google } : {}),
      publicUrl: deps.config.publicUrl ?? "http://localhost:3000",
    },
    db: deps.db,
    crypto: tenancy.crypto,
    clients: tenancy.clients,
    signingKey: encryptionKeys[0] as Buffer,
    logger: deps.logger,
  });
  await google.ensureIndexes();

  // Before any route: the document is collected as routes are added, and every route gets its scope's
  // error responses and security requirement (documentScope) without being listed anywhere.
  documentScope(app, "public");
  await registerOpenApi(app, {
    version,
    ...(deps.config.publicUrl ? { publicUrl: deps.config.publicUrl } : {}),
  });
  healthRoutes(app, { db: deps.db, version });
  // /metrics is not served here (the public port): main.ts starts it on METRICS_PORT when set.
  googleOAuthRoutes(app, { google });
  await whatsappWebhookRoutes(app, { clients: tenancy.clients, queue: deps.queue });
  await registerConsole(app, { root: deps.consoleRoot ?? consoleDistDir });

  await app.register(async (admin) => {
    documentScope(admin, "admin");
    refuseTokensInQuery(admin);
    requireAdmin(
      admin,
      deps.config.coreApiToken,
      createFailedAuthLimiter({ maxFailures: 20, maxFailuresPerIp: 20, ...deps.adminAuthRateLimit }),
    );
    adminDiagnosticsRoutes(admin, { queue: deps.queue });
    adminJobsRoutes(admin, { queue: deps.queue });
    clientsRoutes(admin, { clients: tenancy.clients, capabilities: tenancy.capabilities });
    adminGoogleRoutes(admin, { google });
    if (deps.config.sandbox) sandboxRoutes(admin, { outboxUrl: deps.config.sandboxOutboxUrl });
  });

  const crm = createCrmServices({ tenantConnections: tenancy.tenantConnections, queue: deps.queue });
  const limiter = createFailedAuthLimiter(deps.authRateLimit);
  await app.register(async (tenant) => {
    documentScope(tenant, "tenant");
    refuseTokensInQuery(tenant);
    requireTenant(tenant, { clients: tenancy.clients, limiter });
    if (deps.onTenantRoute) {
      const report = deps.onTenantRoute;
      tenant.addHook("onRoute", (route) => {
        for (const method of [route.method].flat()) {
          if (method !== "HEAD") report({ method, url: route.url });
        }
      });
    }
    tenantCorsRoutes(tenant, { corsOrigins: tenancy.corsOrigins });
    tenantJobsRoutes(tenant, { queue: deps.queue, tenantConnections: tenancy.tenantConnections });
    crmLeadsRoutes(tenant, { leads: crm.leads });
    crmAppointmentsRoutes(tenant, { appointments: crm.appointments });
    crmAutomationsRoutes(tenant, { automations: crm.automations });
    crmScoringRoutes(tenant, {
      scoring: createScoringService({ tenantConnections: tenancy.tenantConnections, queue: deps.queue }),
    });
    tenantGoogleRoutes(tenant, { google });
    tenantWhatsappRoutes(tenant, { queue: deps.queue, tenantConnections: tenancy.tenantConnections });
    tenantEmailRoutes(tenant, { queue: deps.queue, clients: tenancy.clients });
    tenantWebhooksRoutes(tenant, {
      queue: deps.queue,
      tenantConnections: tenancy.tenantConnections,
      clients: tenancy.clients,
      allowPrivateNetworks: deps.config.outboundAllowPrivateNetworks ?? false,
    });
  });

  return app;
}

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { crmCapabilities } from "@ecodrix/crm";
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
import { registerCors } from "./plugins/cors.js";
import { frameworkErrorHandler, registerErrorHandler } from "./plugins/error-handler.js";
import { requireTenant } from "./plugins/tenant-auth.js";
import { registerValidation } from "./plugins/validation.js";
import { adminDiagnosticsRoutes } from "./routes/admin-diagnostics-routes.js";
import { adminGoogleRoutes } from "./routes/admin-google-routes.js";
import { adminJobsRoutes } from "./routes/admin-jobs-routes.js";
import { clientsRoutes } from "./routes/clients-routes.js";
import { googleOAuthRoutes } from "./routes/google-oauth-routes.js";
import { healthRoutes } from "./routes/health-routes.js";
import { metricsRoutes } from "./routes/metrics-routes.js";
import { sandboxRoutes } from "./routes/sandbox-routes.js";
import { tenantCorsRoutes } from "./routes/tenant-cors-routes.js";
import { tenantGoogleRoutes } from "./routes/tenant-google-routes.js";
import { tenantJobsRoutes } from "./routes/tenant-jobs-routes.js";
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
    Partial<Pick<Config, "encryptionKeys" | "google" | "publicUrl" | "sandbox" | "sandboxOutboxUrl">>;
  db: Db;
  logger: Logger;
  /** The producer and admin sides only: the API cannot claim jobs. */
  queue: ApiQueue;
  /** Clients, secrets, datasources, CORS, tenant pool; built from db + config when omitted. */
  tenancy?: TenancyServices;
  /** Told of every route registered in the tenant scope (the isolation test checks each has a case). */
  onTenantRoute?: (route: { method: string; url: string }) => void;
  /** Failed tenant-authentication limit per IP (default 20 per minute). */
  authRateLimit?: FailedAuthLimiterOptions;
}

/** The API's composition root: tests call it with a test database; main.ts with the real one. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 100 * 1024,
    // JSON.parse keeps "__proto__" as a plain own property (it never sets a prototype); the body guard
    // then refuses such bodies before any hook or handler sees them, naming the field.
    onProtoPoisoning: "ignore",
    onConstructorPoisoning: "ignore",
    // Errors Fastify raises before routing (a malformed URL) use the product's error format too.
    frameworkErrors: (error, request, reply) => frameworkErrorHandler(error, request, reply as FastifyReply),
  });
  registerValidation(app);
  registerErrorHandler(app);
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

  healthRoutes(app, { db: deps.db, version });
  metricsRoutes(app, { queue: deps.queue });
  googleOAuthRoutes(app, { google });
  await whatsappWebhookRoutes(app, { clients: tenancy.clients, queue: deps.queue });

  await app.register(async (admin) => {
    requireAdmin(admin, deps.config.coreApiToken);
    adminDiagnosticsRoutes(admin, { queue: deps.queue });
    adminJobsRoutes(admin, { queue: deps.queue });
    clientsRoutes(admin, { clients: tenancy.clients, capabilities: tenancy.capabilities });
    adminGoogleRoutes(admin, { google });
    if (deps.config.sandbox) sandboxRoutes(admin, { outboxUrl: deps.config.sandboxOutboxUrl });
  });

  const limiter = createFailedAuthLimiter(deps.authRateLimit);
  await app.register(async (tenant) => {
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
    tenantGoogleRoutes(tenant, { google });
    tenantWhatsappRoutes(tenant, { queue: deps.queue, tenantConnections: tenancy.tenantConnections });
  });

  return app;
}

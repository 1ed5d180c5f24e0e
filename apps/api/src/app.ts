import { readFileSync } from "node:fs";
import type { Config, Logger, Queue } from "@ecodrix/domain";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Db } from "mongodb";
import { requireAdmin } from "./plugins/admin-auth.js";
import { registerErrorHandler } from "./plugins/error-handler.js";
import { adminDiagnosticsRoutes } from "./routes/admin-diagnostics-routes.js";
import { healthRoutes } from "./routes/health-routes.js";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

export interface AppDeps {
  config: Pick<Config, "coreApiToken">;
  db: Db;
  logger: Logger;
  queue: Queue;
}

/** The API's composition root: tests call it with a test database; main.ts with the real one. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 100 * 1024,
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
  });
  registerErrorHandler(app);

  healthRoutes(app, { db: deps.db, version });

  await app.register(async (admin) => {
    requireAdmin(admin, deps.config.coreApiToken);
    adminDiagnosticsRoutes(admin, { queue: deps.queue });
  });

  return app;
}

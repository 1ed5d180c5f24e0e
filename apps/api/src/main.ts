import { crmCapabilities } from "@ecodrix/crm";
import { createCapabilityRegistry } from "@ecodrix/domain";
import { integrationCapabilities } from "@ecodrix/integrations";
import { connectCentralMongo, createLogger, loadConfigOrExit, stopWithParent } from "@ecodrix/platform";
import { createQueue } from "@ecodrix/queue";
import closeWithGrace from "close-with-grace";
import { buildApp } from "./app.js";
import { createConnectionDrainer } from "./connection-drainer.js";
import { CENTRAL_MONGO_TIMEOUTS } from "./plugins/database-unavailable.js";
import { startApiMetricsServer } from "./routes/metrics-routes.js";

/** How long a shutdown waits for keep-alive clients to finish with this process (within close-with-grace's 10 s). */
const drainTimeoutMs = 5_000;

const config = loadConfigOrExit();
const logger = createLogger({
  level: config.logLevel,
  name: "ecodrix-api",
  redactFields: createCapabilityRegistry([...integrationCapabilities, ...crmCapabilities]).secretFieldNames,
});
const mongo = await connectCentralMongo(
  config.mongodbUri,
  config.servicesDbName,
  CENTRAL_MONGO_TIMEOUTS,
).catch((error: unknown) => {
  logger.fatal({ err: error }, "cannot reach MongoDB at start-up");
  process.exit(1);
});
const queue = createQueue({ db: mongo.db });
await queue.ensureIndexes();

const app = await buildApp({ config, db: mongo.db, logger, queue });
app.server.keepAliveTimeout = config.keepAliveTimeoutMs;
const drainer = createConnectionDrainer(app.server);
// Off the public port: only when METRICS_PORT is set (the load balancer forwards PORT alone).
const metricsServer =
  config.metricsPort > 0
    ? await startApiMetricsServer({ queue }, config.metricsPort, config.host)
    : undefined;

// PM2 (`pm2 reload`) sends SIGINT to the old process once its replacement has said "ready" (below).
closeWithGrace({ delay: 10_000, logger }, async ({ signal, err }) => {
  if (err) logger.error({ err }, "closing after an error");
  else logger.info({ signal }, "closing: no new connections, draining keep-alive ones");
  const drained = await drainer.drain(drainTimeoutMs);
  logger.info(drained, "connections drained");
  metricsServer?.close();
  await app.close();
  await mongo.close();
});

stopWithParent(logger);
await app.listen({ port: config.port, host: config.host });
// With `wait_ready` (ecosystem.config.cjs), PM2 routes traffic here and stops the old process only
// after this message: a reload never leaves a moment without a listening, connected API.
process.send?.("ready");
if (metricsServer) logger.info({ metricsPort: config.metricsPort }, "metrics served on their own port");

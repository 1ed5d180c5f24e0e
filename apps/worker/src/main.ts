import { crmCapabilities } from "@ecodrix/crm";
import { createCapabilityRegistry } from "@ecodrix/domain";
import { integrationCapabilities } from "@ecodrix/integrations";
import { connectCentralMongo, createLogger, loadConfigOrExit, stopWithParent } from "@ecodrix/platform";
import { createQueue, createServerClock, createWorkerMetrics, startMetricsServer } from "@ecodrix/queue";
import closeWithGrace from "close-with-grace";
import { buildWorker } from "./worker.js";

const config = loadConfigOrExit();
const logger = createLogger({
  level: config.logLevel,
  name: "ecodrix-worker",
  redactFields: createCapabilityRegistry([...integrationCapabilities, ...crmCapabilities]).secretFieldNames,
});
const mongo = await connectCentralMongo(config.mongodbUri, config.servicesDbName).catch((error: unknown) => {
  logger.fatal({ err: error }, "cannot reach MongoDB at start-up");
  process.exit(1);
});
// Leases are written and compared in the database server's time: a host whose clock is off does not
// take over other workers' live jobs (see packages/queue/README.md, "Leases").
const clock = createServerClock(mongo.db, {
  onError: (error) => logger.warn({ err: error }, "measuring the clock offset from the server failed"),
});
const offsetMs = await clock.sync();
if (Math.abs(offsetMs) > 1_000)
  logger.warn({ offsetMs }, "this host's clock differs from the database server's");
clock.start();
const queue = createQueue({ db: mongo.db, clock: clock.now });
await queue.ensureIndexes();

const metrics = config.worker.metricsPort > 0 ? createWorkerMetrics() : undefined;
const metricsServer = metrics
  ? await startMetricsServer(metrics.registry, config.worker.metricsPort, config.host)
  : undefined;
// Change streams where the server has them, else producers' nudges (WORKER_WAKE); polling stays.
const wake = await queue.openWakeSignal({
  mode: config.worker.wakeMode,
  host: config.worker.wakeHost,
  logger,
});
const worker = buildWorker({
  config,
  logger,
  db: mongo.db,
  queue,
  wake,
  ...(metrics ? { observer: metrics.observer } : {}),
});

closeWithGrace({ delay: config.worker.shutdownTimeoutMs + 5_000, logger }, async ({ signal, err }) => {
  if (err) logger.error({ err }, "closing after an error");
  else logger.info({ signal }, "stopping: no new claims, waiting for running jobs");
  await worker.stop();
  await wake.close();
  metricsServer?.close();
  clock.stop();
  await mongo.close();
});

stopWithParent(logger);
worker.start();
logger.info(
  {
    workerId: worker.workerId,
    concurrency: config.worker.concurrency,
    wake: wake.endpoint ?? wake.kind,
    ...(metricsServer ? { metricsPort: config.worker.metricsPort } : {}),
  },
  "worker started",
);

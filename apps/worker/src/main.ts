import { connectCentralMongo, createLogger, createQueue, loadConfigOrExit } from "@ecodrix/domain";
import closeWithGrace from "close-with-grace";
import { buildWorker } from "./worker.js";

const config = loadConfigOrExit();
const logger = createLogger({ level: config.logLevel, name: "ecodrix-worker" });
const mongo = await connectCentralMongo(config.mongodbUri, config.servicesDbName).catch((error: unknown) => {
  logger.fatal({ err: error }, "cannot reach MongoDB at start-up");
  process.exit(1);
});
const queue = createQueue({ db: mongo.db });
await queue.ensureIndexes();

const worker = buildWorker({ config, logger, queue });

closeWithGrace({ delay: config.worker.shutdownTimeoutMs + 5_000, logger }, async ({ signal, err }) => {
  if (err) logger.error({ err }, "closing after an error");
  else logger.info({ signal }, "stopping: no new claims, waiting for running jobs");
  await worker.stop();
  await mongo.close();
});

worker.start();
logger.info({ workerId: worker.workerId, concurrency: config.worker.concurrency }, "worker started");

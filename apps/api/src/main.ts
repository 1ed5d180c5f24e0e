import { crmCapabilities } from "@ecodrix/crm";
import { createCapabilityRegistry } from "@ecodrix/domain";
import { integrationCapabilities } from "@ecodrix/integrations";
import { connectCentralMongo, createLogger, loadConfigOrExit, stopWithParent } from "@ecodrix/platform";
import { createQueue } from "@ecodrix/queue";
import closeWithGrace from "close-with-grace";
import { buildApp } from "./app.js";

const config = loadConfigOrExit();
const logger = createLogger({
  level: config.logLevel,
  name: "ecodrix-api",
  redactFields: createCapabilityRegistry([...integrationCapabilities, ...crmCapabilities]).secretFieldNames,
});
const mongo = await connectCentralMongo(config.mongodbUri, config.servicesDbName).catch((error: unknown) => {
  logger.fatal({ err: error }, "cannot reach MongoDB at start-up");
  process.exit(1);
});
const queue = createQueue({ db: mongo.db });
await queue.ensureIndexes();

const app = await buildApp({ config, db: mongo.db, logger, queue });

closeWithGrace({ delay: 10_000, logger }, async ({ signal, err }) => {
  if (err) logger.error({ err }, "closing after an error");
  else logger.info({ signal }, "closing");
  await app.close();
  await mongo.close();
});

stopWithParent(logger);
await app.listen({ port: config.port, host: config.host });

/**
 * One worker process of `npm run bench:crm` (forked by crm-bench.ts): the product's worker
 * (buildWorker with the product's job definitions), with a stand-in for `send_whatsapp` that completes
 * the job without sending anything, so the measurement ends where the WhatsApp integration's work begins
 * (that part is `npm run bench:whatsapp`, against the fake Graph API). Argument: the config as JSON.
 */
import { sendWhatsappContract } from "@ecodrix/integrations";
import { connectCentralMongo, createLogger, loadConfig, stopWithParent } from "@ecodrix/platform";
import { createQueue, defineJob } from "@ecodrix/queue";
import { buildWorker, jobDefinitions } from "@ecodrix/worker";

export interface CrmBenchWorkerConfig {
  uri: string;
  dbName: string;
  encryptionKey: string;
  coreApiToken: string;
}

export type CrmBenchWorkerMessage = { type: "ready"; standIn: boolean } | { type: "stopped" };

/** Completes `send_whatsapp` jobs at once: the end of the CRM's part of an automation. */
const standInSendWhatsapp = defineJob({
  ...sendWhatsappContract,
  create: () => async () => ({ standIn: true }),
});

const config = JSON.parse(process.argv[2] ?? "{}") as CrmBenchWorkerConfig;
const logger = createLogger({ level: "warn", name: "crm-bench-worker", destination: process.stderr });
const mongo = await connectCentralMongo(config.uri, config.dbName);
const queue = createQueue({ db: mongo.db });
const standIn = true;
const worker = buildWorker({
  config: loadConfig({
    MONGODB_URI: config.uri,
    SERVICES_DB_NAME: config.dbName,
    CORE_API_TOKEN: config.coreApiToken,
    ENCRYPTION_KEY: config.encryptionKey,
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith("WORKER_"))),
  }),
  logger,
  db: mongo.db,
  queue,
  definitions: [
    ...jobDefinitions.filter((definition) => definition.type !== sendWhatsappContract.type),
    standInSendWhatsapp,
  ],
  schedules: [],
});
stopWithParent(logger);
worker.start();
process.send?.({ type: "ready", standIn } satisfies CrmBenchWorkerMessage);
process.on("message", async (message: unknown) => {
  if ((message as { type?: unknown }).type !== "stop") return;
  await worker.stop();
  await mongo.close();
  process.send?.({ type: "stopped" } satisfies CrmBenchWorkerMessage);
  process.exit(0);
});
